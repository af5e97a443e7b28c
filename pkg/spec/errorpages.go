package spec

// error_pages_path: as in Kamal, a directory relative to the app root
// whose <status>.html pages the proxy serves. docker kamal sends the pages
// of the statuses its proxy answers itself (contract.ErrorPageStatuses) in
// each proxied role's spec; the sidecar serves them to Traefik.

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// errorPages reads the pages of error_pages_path, if set.
func (b *builder) errorPages() error {
	name := b.c.ErrorPagesPath
	if name == "" {
		return nil
	}
	dir := name
	if b.opts.Dir != "" && !filepath.IsAbs(dir) {
		dir = filepath.Join(b.opts.Dir, dir)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		msg := "is not a directory"
		if errors.Is(err, fs.ErrNotExist) {
			msg = "no such directory"
		} else if err != nil {
			msg = errText(err)
		}
		return b.errKey("error_pages_path", "%s (relative to the app root): %s", name, msg)
	}
	pages := map[string]string{}
	size := 0
	for _, st := range contract.ErrorPageStatuses {
		data, err := os.ReadFile(filepath.Join(dir, st+".html"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return b.errKey("error_pages_path", "read %s: %s", filepath.Join(name, st+".html"), errText(err))
		}
		size += len(data)
		pages[st] = string(data)
	}
	if size > contract.MaxErrorPagesBytes {
		return b.errKey("error_pages_path", "%s: the pages are %d bytes, more than %d", name, size, contract.MaxErrorPagesBytes)
	}
	if len(pages) > 0 {
		b.c.errorPages = pages
	}
	return nil
}
