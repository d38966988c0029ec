package pdfdoc

import (
	"embed"
	"fmt"
	"strings"
)

// fontFS holds the DejaVu faces the documents are set in. DejaVu covers Uzbek
// Latin (U+02BB, U+02BC), Russian, Uzbek Cyrillic and the Kazakh and Kyrgyz
// letters in one family, so a report never falls back to a second font; the
// licence (Bitstream Vera, DejaVu changes in the public domain) is
// fonts/LICENSE and travels with the files.
//
//go:embed fonts/*.ttf
var fontFS embed.FS

// face names one embedded TrueType file and the PostScript name that the PDF
// gives its subset.
type face int

// The faces a document can use. Body text is DejaVu Sans; tables use the
// condensed cut so that seven or eight columns fit across A4 portrait.
const (
	faceRegular face = iota
	faceBold
	faceCondensed
	faceCondensedBold
	faceCount
)

// file is the embedded file that holds the face.
func (f face) file() string {
	switch f {
	case faceBold:
		return "fonts/DejaVuSans-Bold.ttf"
	case faceCondensed:
		return "fonts/DejaVuSansCondensed.ttf"
	case faceCondensedBold:
		return "fonts/DejaVuSansCondensed-Bold.ttf"
	default:
		return "fonts/DejaVuSans.ttf"
	}
}

// postScriptName is the font's own PostScript name, which the PDF's
// /BaseFont and /FontName carry after the subset tag.
func (f face) postScriptName() string {
	switch f {
	case faceBold:
		return "DejaVuSans-Bold"
	case faceCondensed:
		return "DejaVuSansCondensed"
	case faceCondensedBold:
		return "DejaVuSansCondensed-Bold"
	default:
		return "DejaVuSans"
	}
}

// family is the name the face is registered under in fpdf. fpdf writes a
// UTF-8 font's PDF name as "utf8" + lower-cased family and, unlike the PDF
// specification asks for subsets, adds no "ABCDEF+" tag. The family is chosen
// so that "utf8"+family is exactly as long as "ABCDEF+"+postScriptName: Write
// then swaps in the tagged name without moving a byte, so the
// cross-reference offsets stay valid.
func (f face) family() string {
	return strings.ToLower(f.postScriptName()) + "-st"
}

// placeholder is the name fpdf writes for the face (with the leading slash of
// a PDF name), and tagged the name that replaces it.
func (f face) placeholder() string { return "/utf8" + f.family() }

func (f face) tagged(tag string) string { return "/" + tag + "+" + f.postScriptName() }

// fontBytes reads the embedded TrueType file of a face.
func fontBytes(f face) ([]byte, error) {
	b, err := fontFS.ReadFile(f.file())
	if err != nil {
		return nil, fmt.Errorf("pdfdoc: read embedded font %s: %w", f.file(), err)
	}
	return b, nil
}

// TTF returns the TrueType file of DejaVu Sans (bold or regular), the face
// the documents embed, so that figures drawn as images (report/draw) are
// set in the same face.
func TTF(bold bool) ([]byte, error) {
	name := "fonts/DejaVuSans.ttf"
	if bold {
		name = "fonts/DejaVuSans-Bold.ttf"
	}
	return fontFS.ReadFile(name)
}
