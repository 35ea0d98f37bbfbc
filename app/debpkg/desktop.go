package debpkg

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"strings"

	"golang.org/x/image/draw"
)

// IconSizes are the hicolor theme's fixed sizes an app icon is installed at; desktops pick the one
// nearest to what they draw, so these cover menus (16–48), docks (64–128) and app grids (256–512).
var IconSizes = []int{16, 24, 32, 48, 64, 128, 256, 512}

// HicolorIcons scales a square PNG to IconSizes (never up) and returns the files for
// /usr/share/icons/hicolor/<N>x<N>/apps/<name>.png.
func HicolorIcons(name string, pngData []byte) ([]File, error) {
	src, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		return nil, fmt.Errorf("read the icon: %w", err)
	}
	b := src.Bounds()
	if b.Dx() != b.Dy() {
		return nil, fmt.Errorf("the icon is %dx%d pixels; it must be square", b.Dx(), b.Dy())
	}
	var out []File
	for _, n := range IconSizes {
		if n > b.Dx() {
			break
		}
		dst := image.NewNRGBA(image.Rect(0, 0, n, n))
		draw.CatmullRom.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
		var buf bytes.Buffer
		if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, dst); err != nil {
			return nil, fmt.Errorf("encode the %d px icon: %w", n, err)
		}
		out = append(out, File{Dest: fmt.Sprintf("/usr/share/icons/hicolor/%dx%d/apps/%s.png", n, n, name), Data: buf.Bytes()})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the icon is %d pixels wide; it must be at least %d", b.Dx(), IconSizes[0])
	}
	return out, nil
}

// DesktopEntry is a freedesktop.org desktop entry for an application, the file that puts it in
// the desktop's app menu.
type DesktopEntry struct {
	Name        string
	GenericName string
	Comment     string
	Exec        []string // the program and its arguments, unquoted
	Icon        string
	Categories  []string
	Keywords    []string
	// StartupWMClass is the X window class of the app's windows, which desktops use to show running
	// windows under this entry.
	StartupWMClass string
	// Actions are extra entries of the app's menu (right click in most desktops), by ID.
	Actions []DesktopAction
}

// DesktopAction is one extra action of a desktop entry.
type DesktopAction struct {
	ID   string
	Name string
	Exec []string
}

// String renders the entry in the Desktop Entry Specification's format.
func (e DesktopEntry) String() string {
	var b strings.Builder
	b.WriteString("[Desktop Entry]\nType=Application\nVersion=1.4\n")
	line := func(key, value string) {
		if value != "" {
			fmt.Fprintf(&b, "%s=%s\n", key, escapeValue(value))
		}
	}
	list := func(key string, values []string) {
		if len(values) > 0 {
			esc := make([]string, len(values))
			for i, v := range values {
				esc[i] = strings.ReplaceAll(escapeValue(v), ";", `\;`)
			}
			fmt.Fprintf(&b, "%s=%s;\n", key, strings.Join(esc, ";"))
		}
	}
	line("Name", e.Name)
	line("GenericName", e.GenericName)
	line("Comment", e.Comment)
	fmt.Fprintf(&b, "Exec=%s\n", ExecLine(e.Exec))
	line("Icon", e.Icon)
	b.WriteString("Terminal=false\n")
	line("StartupWMClass", e.StartupWMClass)
	list("Categories", e.Categories)
	list("Keywords", e.Keywords)
	ids := make([]string, len(e.Actions))
	for i, a := range e.Actions {
		ids[i] = a.ID
	}
	list("Actions", ids)
	for _, a := range e.Actions {
		fmt.Fprintf(&b, "\n[Desktop Action %s]\n", a.ID)
		line("Name", a.Name)
		fmt.Fprintf(&b, "Exec=%s\n", ExecLine(a.Exec))
	}
	return b.String()
}

// escapeValue applies the specification's string escapes, so that no value can start a new line
// (and with it a new key, such as a second Exec).
func escapeValue(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\t", `\t`, "\r", `\r`).Replace(s)
}

// execReserved are the characters that make an Exec argument need quoting.
const execReserved = " \t\n\"'\\><~|&;$*?#()`"

// ExecLine quotes a command line for a desktop entry's Exec key: arguments with reserved characters
// go in double quotes with ", `, $ and \ escaped, '%' is doubled so that it is not a field code,
// and the whole is then escaped as a string value.
func ExecLine(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		a = strings.ReplaceAll(a, "%", "%%")
		if a == "" || strings.ContainsAny(a, execReserved) {
			a = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "`", "\\`", `$`, `\$`).Replace(a) + `"`
		}
		quoted[i] = a
	}
	return escapeValue(strings.Join(quoted, " "))
}

// ParseExec splits an Exec value the way a desktop launches it (the inverse of ExecLine, field codes
// excepted), so tests can run exactly what a desktop would.
func ParseExec(value string) ([]string, error) {
	// Undo the string escapes first, as the specification orders.
	var s strings.Builder
	for i := 0; i < len(value); i++ {
		if value[i] == '\\' && i+1 < len(value) {
			i++
			switch value[i] {
			case 'n':
				s.WriteByte('\n')
			case 't':
				s.WriteByte('\t')
			case 'r':
				s.WriteByte('\r')
			case 's':
				s.WriteByte(' ')
			default:
				s.WriteByte(value[i])
			}
			continue
		}
		s.WriteByte(value[i])
	}
	var args []string
	var cur strings.Builder
	inArg, inQuote := false, false
	str := s.String()
	for i := 0; i < len(str); i++ {
		c := str[i]
		switch {
		case inQuote && c == '\\' && i+1 < len(str):
			i++
			cur.WriteByte(str[i])
		case c == '"':
			inQuote, inArg = !inQuote, true
		case !inQuote && c == ' ':
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		case c == '%':
			if i+1 < len(str) && str[i+1] == '%' {
				i++
				cur.WriteByte('%')
				inArg = true
			} else {
				return nil, errors.New("field codes are not supported here")
			}
		default:
			cur.WriteByte(c)
			inArg = true
		}
	}
	if inQuote {
		return nil, errors.New("unterminated quote in Exec")
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args, nil
}
