// Command socketeer is a desktop shell that lets HTTPS web apps open raw TCP and UDP sockets, after the
// user consents in a native dialog. See README.md.
package main

import (
	"os"

	"socketeer/app"
)

func main() {
	os.Exit(app.Main(os.Args[1:], os.Stdout, os.Stderr))
}
