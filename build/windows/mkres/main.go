// Command mkres compiles socketeer.exe's Windows resources — the icon, the application manifest and
// the version information Explorer shows — from the files Wails keeps in build/windows/ into a
// .syso object that `go build` links into a Windows binary, as `wails build` does:
//
//	go run ./build/windows/mkres -version 1.2.0 -out socketeer_windows_amd64.syso
//
// info.json is a template over wails.json's fields, as in Wails; -version replaces the product
// version for this build.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"text/template"

	"github.com/tc-hib/winres"
	"github.com/tc-hib/winres/version"
)

// project holds the parts of wails.json the templates use, under Wails' template names.
type project struct {
	Name string `json:"name"`
	Info struct {
		CompanyName    string `json:"companyName"`
		ProductName    string `json:"productName"`
		ProductVersion string `json:"productVersion"`
		Copyright      string `json:"copyright"`
		Comments       string `json:"comments"`
	} `json:"info"`
}

func main() {
	ver := flag.String("version", "", "the product version, three numbers; wails.json's when empty")
	out := flag.String("out", "socketeer_windows_amd64.syso", "the object file to write")
	flag.Parse()
	if err := run(*ver, *out); err != nil {
		fmt.Fprintln(os.Stderr, "mkres: "+err.Error())
		os.Exit(1)
	}
}

func run(ver, out string) error {
	var p project
	b, err := os.ReadFile("wails.json")
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("wails.json: %w", err)
	}
	if ver != "" {
		p.Info.ProductVersion = ver
	}

	var rs winres.ResourceSet
	ico, err := os.Open("build/windows/icon.ico")
	if err != nil {
		return err
	}
	defer ico.Close()
	icon, err := winres.LoadICO(ico)
	if err != nil {
		return fmt.Errorf("build/windows/icon.ico: %w", err)
	}
	// The first icon group is the one Explorer shows for the program.
	if err := rs.SetIcon(winres.Name("APPICON"), icon); err != nil {
		return err
	}
	manifest, err := os.ReadFile("build/windows/wails.exe.manifest")
	if err != nil {
		return err
	}
	if err := rs.Set(winres.RT_MANIFEST, winres.ID(1), winres.LCIDDefault, manifest); err != nil {
		return err
	}
	tmpl, err := template.ParseFiles("build/windows/info.json")
	if err != nil {
		return err
	}
	var info bytes.Buffer
	if err := tmpl.Execute(&info, p); err != nil {
		return fmt.Errorf("build/windows/info.json: %w", err)
	}
	var vi version.Info
	if err := json.Unmarshal(info.Bytes(), &vi); err != nil {
		return fmt.Errorf("build/windows/info.json: %w", err)
	}
	rs.SetVersionInfo(vi)

	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := rs.WriteObject(f, winres.ArchAMD64); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
