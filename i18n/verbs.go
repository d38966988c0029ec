package i18n

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// verb is one printf verb of a message: the argument it formats (1-based,
// after explicit [n] indexes are resolved) and its spec without the index
// (flags, width, precision and the verb letter, e.g. "d" or ".1f").
type verb struct {
	Arg  int
	Spec string
}

func (v verb) String() string { return fmt.Sprintf("%%[%d]%s", v.Arg, v.Spec) }

// verbLetters are the fmt verbs a catalogue message may use. Messages are
// written by translators, so anything else is far more likely a typo (or a
// literal percent sign that should have been doubled) than intent.
const verbLetters = "vdsfegqxXc"

// parseVerbs returns the verbs of a printf format in order of appearance.
// It rejects what fmt would render as an error marker ("%!..."): a lone
// trailing %, an unknown verb letter, a malformed [n] index, or a '*'
// width (catalogue messages take their widths from the text, never from
// arguments). A literal percent sign must be written "%%".
func parseVerbs(format string) ([]verb, error) {
	var verbs []verb
	next := 1 // the argument an implicit verb formats, as in fmt
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		start := i
		i++
		if i < len(format) && format[i] == '%' {
			continue
		}
		var spec strings.Builder
		for i < len(format) && strings.IndexByte("+-# 0", format[i]) >= 0 {
			spec.WriteByte(format[i])
			i++
		}
		if i < len(format) && format[i] == '[' {
			end := strings.IndexByte(format[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("unclosed argument index at byte %d in %q", start, format)
			}
			n, err := strconv.Atoi(format[i+1 : i+end])
			if err != nil || n < 1 {
				return nil, fmt.Errorf("bad argument index %q at byte %d in %q", format[i:i+end+1], start, format)
			}
			next = n
			i += end + 1
		}
		for i < len(format) && (format[i] >= '0' && format[i] <= '9' || format[i] == '.') {
			spec.WriteByte(format[i])
			i++
		}
		if i < len(format) && format[i] == '*' {
			return nil, fmt.Errorf("'*' width at byte %d in %q is not supported in catalogues", start, format)
		}
		if i >= len(format) {
			return nil, fmt.Errorf("lone %% at the end of %q (write %%%% for a percent sign)", format)
		}
		if strings.IndexByte(verbLetters, format[i]) < 0 {
			return nil, fmt.Errorf("unknown verb %q at byte %d in %q (write %%%% for a percent sign; verbs: %s)",
				format[start:i+1], start, format, verbLetters)
		}
		spec.WriteByte(format[i])
		verbs = append(verbs, verb{Arg: next, Spec: spec.String()})
		next++
	}
	return verbs, nil
}

// verbSignature is the sorted, de-duplicated list of a message's verbs: two
// translations of one message must format the same arguments the same way,
// in whatever order their grammar puts them, so the order of appearance is
// not compared.
func verbSignature(verbs []verb) []verb {
	out := slices.Clone(verbs)
	slices.SortFunc(out, func(a, b verb) int {
		if a.Arg != b.Arg {
			return a.Arg - b.Arg
		}
		return strings.Compare(a.Spec, b.Spec)
	})
	return slices.Compact(out)
}
