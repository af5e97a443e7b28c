// Command kamal-sidecar runs on every host and performs zero-downtime swaps.
package main

import (
	"fmt"
	"os"

	"github.com/dockerkamal/docker-kamal/pkg/buildinfo"
)

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "--version" || os.Args[1] == "version") {
		fmt.Println(buildinfo.Version)
		return
	}
	fmt.Fprintln(os.Stderr, "kamal-sidecar: not implemented yet (tracked in issue 4)")
	os.Exit(3)
}
