package secretadapters

// Passbolt through `passbolt` (configured with `passbolt configure`):
// `passbolt verify` checks the login; FOLDER/.../NAME items find their
// folders level by level with `passbolt list folders --filter ...
// --json`, then `passbolt list resources --filter ... --folder ID ...
// --column name --column password --json` reads them. Keys are the
// resource names.

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

type passbolt struct{}

type pbEntry struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Password string `json:"password"`
}

func (passbolt) Fetch(ctx context.Context, r Request) (map[string]string, error) {
	pb := tool{bin: "passbolt", label: "Passbolt", env: r.Env}
	if err := pb.installed(ctx); err != nil {
		return nil, err
	}
	if _, err := pb.output(ctx, "verify"); err != nil {
		return nil, fmt.Errorf("passbolt: %w: %w", ErrNotLoggedIn, err)
	}
	items := prefixed(r.From, r.Items)
	if len(items) == 0 {
		return nil, fmt.Errorf("passbolt: %w: name the secrets to fetch", ErrUsage)
	}
	folders := map[string]string{} // folder path -> id
	var conds, folderArgs, names []string
	for _, it := range items {
		i := strings.LastIndex(it, "/")
		name := it[i+1:]
		names = append(names, name)
		if i < 0 {
			conds = append(conds, "Name == "+strconv.Quote(name))
			continue
		}
		id, err := pbFolder(ctx, pb, it[:i], folders, &folderArgs)
		if err != nil {
			return nil, err
		}
		conds = append(conds, "(Name == "+strconv.Quote(name)+" && FolderParentID == "+strconv.Quote(id)+")")
	}
	args := append([]string{"list", "resources", "--filter", strings.Join(conds, " || ")}, folderArgs...)
	b, err := pb.output(ctx, append(args, "--column", "name", "--column", "password", "--json")...)
	if err != nil {
		return nil, fmt.Errorf("could not read %s from Passbolt: %w", strings.Join(items, ", "), err)
	}
	var list []pbEntry
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("read Passbolt: passbolt printed no resources JSON: %w", err)
	}
	out := map[string]string{}
	for _, e := range list {
		out[e.Name] = e.Password
	}
	for _, n := range names {
		if _, ok := out[n]; !ok {
			return nil, fmt.Errorf("passbolt: secret %s %w", n, ErrNotFound)
		}
	}
	return out, nil
}

// pbFolder resolves a folder path to its id, one level at a time, caching
// in known and adding each new leaf folder to args as --folder ID.
func pbFolder(ctx context.Context, pb tool, path string, known map[string]string, args *[]string) (string, error) {
	if id, ok := known[path]; ok {
		return id, nil
	}
	parent, sofar := "", ""
	for _, name := range strings.Split(path, "/") {
		sofar = strings.TrimPrefix(sofar+"/"+name, "/")
		if id, ok := known[sofar]; ok {
			parent = id
			continue
		}
		filter := "Name == " + strconv.Quote(name)
		if parent != "" {
			filter += " && FolderParentID == " + strconv.Quote(parent)
		}
		b, err := pb.output(ctx, "list", "folders", "--filter", filter, "--json")
		if err != nil {
			return "", fmt.Errorf("could not read folders from Passbolt: %w", err)
		}
		var found []pbEntry
		if err := json.Unmarshal(b, &found); err != nil {
			return "", fmt.Errorf("read Passbolt folders: passbolt printed no folders JSON: %w", err)
		}
		if len(found) == 0 {
			return "", fmt.Errorf("passbolt: folder %s %w", sofar, ErrNotFound)
		}
		parent = found[0].ID
		known[sofar] = parent
	}
	*args = append(*args, "--folder", parent)
	return parent, nil
}
