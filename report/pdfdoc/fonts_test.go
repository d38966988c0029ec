package pdfdoc

import (
	"testing"

	"golang.org/x/image/font/sfnt"
)

// requiredRunes are the letters the reports must print in their six
// languages, and the punctuation their number and date formats use. Each
// face is checked against the font's own cmap, independently of fpdf.
var requiredRunes = []struct {
	what  string
	runes string
}{
	{"Uzbek Latin: oʻ gʻ (U+02BB) and the tutuq belgisi (U+02BC)", "OʻoʻGʻgʻ ʼ ShshChch"},
	{"Uzbek Cyrillic", "ЎўҚқҒғҲҳ"},
	{"Russian", "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюя"},
	{"Kazakh", "ӘәҒғҚқҢңӨөҰұҮүҺһІі"},
	{"Kyrgyz", "ҢңӨөҮү"},
	{"English and digits", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"},
	{"number and text punctuation", "\u00a0\u202f−–—«»„“”№%‰…·±×"},
	{"the replacement character used for unprintable input", "\ufffd"},
}

func TestFontCoverage(t *testing.T) {
	for f := face(0); f < faceCount; f++ {
		t.Run(f.postScriptName(), func(t *testing.T) {
			data, err := fontBytes(f)
			if err != nil {
				t.Fatal(err)
			}
			font, err := sfnt.Parse(data)
			if err != nil {
				t.Fatalf("parse %s: %v", f.file(), err)
			}
			var buf sfnt.Buffer
			name, err := font.Name(&buf, sfnt.NameIDPostScript)
			if err != nil {
				t.Fatalf("PostScript name of %s: %v", f.file(), err)
			}
			if name != f.postScriptName() {
				t.Errorf("%s has PostScript name %q, the PDF names it %q", f.file(), name, f.postScriptName())
			}
			for _, set := range requiredRunes {
				for _, r := range set.runes {
					if r == ' ' {
						continue
					}
					g, err := font.GlyphIndex(&buf, r)
					if err != nil {
						t.Fatalf("glyph for %U: %v", r, err)
					}
					if g == 0 {
						t.Errorf("%s: %s has no glyph for %q (%U)", f.file(), set.what, r, r)
					}
				}
			}
		})
	}
}

// TestFontFamilyNames checks the invariant tagSubsets relies on: fpdf's
// name for a face is exactly as long as the tagged PostScript name.
func TestFontFamilyNames(t *testing.T) {
	for f := face(0); f < faceCount; f++ {
		if got, want := len(f.placeholder()), len(f.tagged("ABCDEF")); got != want {
			t.Errorf("%s: placeholder %q has %d bytes, tagged name %d", f.postScriptName(), f.placeholder(), got, want)
		}
	}
}
