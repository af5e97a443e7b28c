// Package imageship copies a local Docker image to hosts over SSH, sending
// only the layers a host lacks: it asks the host which layer chains it holds,
// leaves the files of those layers out of a `docker save` archive and streams
// the rest into `docker load` on the host. Works on hosts with only the docker
// CLI (the sidecar image itself is shipped this way).
package imageship
