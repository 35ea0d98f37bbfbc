package app

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/gif" // icons as sites serve them
	_ "image/jpeg"
	"image/png"
	"os"
	"path/filepath"
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

// scaleInto draws src into dst keeping its aspect ratio, averaging the source pixels that fall into
// each destination pixel (a box filter: smooth when shrinking, blocky but exact when enlarging).
func scaleInto(dst *image.NRGBA, src image.Image) {
	sb := src.Bounds()
	side := dst.Bounds().Dx()
	w, h := side, side
	if sb.Dx() > sb.Dy() {
		h = max(1, side*sb.Dy()/sb.Dx())
	} else {
		w = max(1, side*sb.Dx()/sb.Dy())
	}
	ox, oy := (side-w)/2, (side-h)/2
	// Work in premultiplied alpha so transparent pixels do not darken the edges.
	rgba := image.NewRGBA(sb)
	draw.Draw(rgba, sb, src, sb.Min, draw.Src)
	for y := 0; y < h; y++ {
		y0 := sb.Min.Y + y*sb.Dy()/h
		y1 := max(y0+1, sb.Min.Y+(y+1)*sb.Dy()/h)
		for x := 0; x < w; x++ {
			x0 := sb.Min.X + x*sb.Dx()/w
			x1 := max(x0+1, sb.Min.X+(x+1)*sb.Dx()/w)
			var r, g, b, a, n uint64
			for sy := y0; sy < y1; sy++ {
				for sx := x0; sx < x1; sx++ {
					c := rgba.RGBAAt(sx, sy)
					r += uint64(c.R)
					g += uint64(c.G)
					b += uint64(c.B)
					a += uint64(c.A)
					n++
				}
			}
			pm := color.RGBA{R: uint8(r / n), G: uint8(g / n), B: uint8(b / n), A: uint8(a / n)}
			dst.Set(ox+x, oy+y, color.NRGBAModel.Convert(pm))
		}
	}
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
