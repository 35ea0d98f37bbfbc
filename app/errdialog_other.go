//go:build !linux || !cgo

package app

// showErrorDialog: without GTK there is no dialog; standard error has the message.
func showErrorDialog(heading, text string) {}
