//go:build windows

package app

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

// windowsNotice is what the Windows build says at every start, so that nobody mistakes it for the
// full app: site windows need WebKitGTK (see site_other.go), which this version has on Linux only.
const windowsNotice = "Socketeer for Windows is a preview: its command line works (trust, grants, profiles, " +
	"package, version), but site windows and the socket bridge need Linux in this version."

// getConsoleProcessList is not wrapped by x/sys/windows.
var getConsoleProcessList = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetConsoleProcessList")

func init() {
	fmt.Fprintln(os.Stderr, "socketeer: "+windowsNotice)
	// Started from Explorer or a shortcut, the console Windows opened for this process closes as soon
	// as it exits, before anyone can read it; the message then goes in a dialog instead. The process
	// is alone on its console exactly in that case (a shell in a console window is a second one),
	// and has no console at all when it was linked as a GUI program, as `wails build` links it.
	var pids [2]uint32
	n, _, _ := getConsoleProcessList.Call(uintptr(unsafe.Pointer(&pids[0])), uintptr(len(pids)))
	if n <= 1 {
		text, _ := windows.UTF16PtrFromString(windowsNotice + "\n\nRun socketeer.exe help in a Command Prompt to see the commands.")
		title, _ := windows.UTF16PtrFromString("Socketeer")
		windows.MessageBox(0, text, title, windows.MB_OK|windows.MB_ICONINFORMATION)
	}
}
