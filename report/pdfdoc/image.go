package pdfdoc

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/draw"
	"image/png"

	"github.com/go-pdf/fpdf"
)

// Image adds a PNG image drawn elsewhere (a map, a chart), centred, widthMM
// wide (zero or more than the text width means the text width), with an
// optional caption under it. Image and caption stay on one page; an image
// taller than a page is scaled down to fit.
func (d *Doc) Image(pngData []byte, widthMM float64, caption string) {
	if !d.ok() {
		return
	}
	key, pxW, pxH, err := d.registerImage(pngData)
	if err != nil {
		d.fail(err)
		return
	}
	d.ensurePage()
	w := widthMM
	if !(w > 0) || w > d.bodyWidth() { // also catches NaN
		w = d.bodyWidth()
	}
	h := w * float64(pxH) / float64(pxW)

	d.setFont(faceRegular, captionSize)
	lh := captionSize * ptToMM * lineSpacing
	var lines []string
	if caption != "" {
		lines = d.wrap(clean(caption, true), d.bodyWidth())
	}
	captionH := float64(len(lines)) * lh
	if limit := d.bottom() - d.top() - captionH - 2; h > limit {
		h = max(limit, 10)
		w = h * float64(pxW) / float64(pxH)
	}
	if !d.fresh {
		d.y += 2
	}
	d.need(h + 1.5 + captionH)
	d.pdf.ImageOptions(key, d.left()+(d.bodyWidth()-w)/2, d.y, w, h, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
	d.y += h + 1.5
	d.pdf.SetTextColor(greyText, greyText, greyText)
	for _, line := range lines {
		d.text(line, d.left(), d.y, d.bodyWidth(), lh, captionSize, AlignCenter)
		d.y += lh
	}
	d.pdf.SetTextColor(0, 0, 0)
	d.y += 3
	d.drawn()
}

// registerImage validates a PNG and registers it with fpdf under a key
// derived from its content; the same image added twice is stored once. It
// returns the key and the pixel size of what was registered.
//
// fpdf writes images sorted by pixel width but takes images of equal width
// in Go's random map order, which would make the file differ from run to
// run. So an image whose width another image already has is widened by
// repeating its last pixel column (invisible at print size) until its width
// is unique. PNGs that fpdf cannot read (16 bits per sample, interlaced) are
// re-encoded to 8-bit non-interlaced on the way.
func (d *Doc) registerImage(data []byte) (key string, w, h int, err error) {
	orig := contentKey(data)
	if r, ok := d.images[orig]; ok {
		return r.key, r.w, r.h, nil
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", 0, 0, fmt.Errorf("pdfdoc: image is not a PNG: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return "", 0, 0, fmt.Errorf("pdfdoc: image has no pixels (%dx%d)", cfg.Width, cfg.Height)
	}
	w, h = cfg.Width, cfg.Height
	var img image.Image
	decode := func() error {
		if img != nil {
			return nil
		}
		var err error
		if img, err = png.Decode(bytes.NewReader(data)); err != nil {
			return fmt.Errorf("pdfdoc: decode PNG: %w", err)
		}
		return nil
	}
	// The IHDR chunk follows the 8-byte signature and the chunk's length
	// and type: bit depth at byte 24, interlace method at byte 28.
	if len(data) < 29 || data[24] > 8 || data[28] != 0 {
		if err := decode(); err != nil {
			return "", 0, 0, err
		}
		if data, err = widenPNG(img, 0); err != nil {
			return "", 0, 0, err
		}
	}
	if _, taken := d.imageWidths[w]; taken {
		if err := decode(); err != nil {
			return "", 0, 0, err
		}
		pad := 1
		for {
			if _, taken := d.imageWidths[w+pad]; !taken {
				break
			}
			pad++
		}
		if data, err = widenPNG(img, pad); err != nil {
			return "", 0, 0, err
		}
		w += pad
	}
	key = contentKey(data)
	d.imageWidths[w] = key
	d.images[orig] = registered{key: key, w: w, h: h}
	d.pdf.RegisterImageOptionsReader(key, fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(data))
	if err := d.pdf.Error(); err != nil {
		return "", 0, 0, fmt.Errorf("pdfdoc: embed PNG: %w", err)
	}
	return key, w, h, nil
}

// registered is an image as registered with fpdf: its key and the pixel size
// after any widening.
type registered struct {
	key  string
	w, h int
}

// contentKey names an image by its content.
func contentKey(data []byte) string {
	sum := sha256.Sum256(data)
	return "png-" + hex.EncodeToString(sum[:12])
}

// widenPNG re-encodes img as an 8-bit, non-interlaced PNG with pad copies of
// its last pixel column added on the right.
func widenPNG(img image.Image, pad int) ([]byte, error) {
	b := img.Bounds()
	dst := image.NewNRGBA(image.Rect(0, 0, b.Dx()+pad, b.Dy()))
	draw.Draw(dst, image.Rect(0, 0, b.Dx(), b.Dy()), img, b.Min, draw.Src)
	for x := b.Dx(); x < b.Dx()+pad; x++ {
		for y := 0; y < b.Dy(); y++ {
			dst.SetNRGBA(x, y, dst.NRGBAAt(b.Dx()-1, y))
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, dst); err != nil {
		return nil, fmt.Errorf("pdfdoc: re-encode PNG: %w", err)
	}
	return buf.Bytes(), nil
}
