package app

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // icons as sites serve them
	_ "image/jpeg"
	"image/png"
	"os"
	"path/filepath"

	"golang.org/x/image/draw"
)

// Icons come from sites, so they are hostile input: they are decoded here, checked, scaled and
// encoded again as a PNG of Socketeer's own making before anything shows them or writes them to disk
// (threat: a file that is not an image, or an image crafted against a decoder, reaching the launcher's
// web view, the desktop's icon loader or the file manager). Nothing of the original bytes survives.

// iconSize is the side of a profile's stored icon.
const iconSize = 128

// maxIconBytes and maxIconPixels bound what is decoded (threat: decompression bombs).
const (
	maxIconBytes  = 1 << 20
	maxIconPixels = 4096 * 4096
)

var errNotImage = errors.New("the icon is not a PNG, JPEG or GIF image")

// reencodeIcon decodes an image and returns it as a square iconSize PNG, centred on transparency.
func reencodeIcon(b []byte) ([]byte, error) {
	if len(b) > maxIconBytes {
		return nil, fmt.Errorf("the icon is larger than %d KiB", maxIconBytes>>10)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, errNotImage
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxIconPixels {
		return nil, fmt.Errorf("the icon is %d×%d pixels, which is not a sensible icon size", cfg.Width, cfg.Height)
	}
	src, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, errNotImage
	}
	dst := image.NewNRGBA(image.Rect(0, 0, iconSize, iconSize))
	scaleInto(dst, src)
	var out bytes.Buffer
	if err := png.Encode(&out, dst); err != nil {
		return nil, fmt.Errorf("encode icon: %w", err)
	}
	return out.Bytes(), nil
}

// scaleInto draws src into dst keeping its aspect ratio, centred on transparency.
func scaleInto(dst *image.NRGBA, src image.Image) {
	sb := src.Bounds()
	side := dst.Bounds().Dx()
	w, h := side, side
	if sb.Dx() > sb.Dy() {
		h = max(1, side*sb.Dy()/sb.Dx())
	} else {
		w = max(1, side*sb.Dx()/sb.Dy())
	}
	at := image.Rect(0, 0, w, h).Add(image.Pt((side-w)/2, (side-h)/2))
	draw.CatmullRom.Scale(dst, at, src, sb, draw.Src, nil)
}

// iconPath is where a profile's icon (already re-encoded) is kept.
func (p *Profile) iconPath() string { return filepath.Join(p.ConfigDir(), "icon.png") }

// setIcon re-encodes b and stores it as the profile's icon.
func (p *Profile) setIcon(b []byte) error {
	png, err := reencodeIcon(b)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(p.ConfigDir(), 0o700); err != nil {
		return fmt.Errorf("create profile folder: %w", err)
	}
	return writeFileAtomic(p.iconPath(), png)
}

// profileIconPNG returns the profile's stored icon, or nil when it has none. The stored file is
// decoded and encoded again on the way out too: the profile folder is the user's to edit.
func profileIconPNG(p *Profile) []byte {
	b, err := os.ReadFile(p.iconPath())
	if err != nil {
		return nil
	}
	out, err := reencodeIcon(b)
	if err != nil {
		return nil
	}
	return out
}

// windowIcon is the icon of a profile's window: its own, else the app's.
func windowIcon(p *Profile) []byte {
	if b := profileIconPNG(p); b != nil {
		return b
	}
	return AppIcon
}

// iconDataURL is an icon as the launcher's page shows it.
func iconDataURL(png []byte) string {
	if len(png) == 0 {
		return ""
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
}
