package ingest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
)

type csvReader struct {
	r   *csv.Reader
	sch *schema
	sep rune
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// newCSVReader reads the header line, detects the delimiter (the most
// frequent of , ; tab | outside quotes) and skips a UTF-8 BOM.
func newCSVReader(src io.Reader, mapping map[string]string) (*csvReader, error) {
	br := bufio.NewReaderSize(src, 1<<16)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, utf8BOM) {
		br.Discard(3)
	}
	first, err := br.Peek(br.Size())
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("reading header: %w", err)
	}
	if len(bytes.TrimSpace(first)) == 0 && errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w (want a CSV header line, then one row per event)", ErrEmpty)
	}
	sep := detectDelimiter(first)
	r := csv.NewReader(br)
	r.Comma = sep
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	header, err := r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w (want a CSV header line, then one row per event)", ErrEmpty)
		}
		return nil, fmt.Errorf("reading header line: %w: %w", ErrBadInput, err)
	}
	sch, err := buildSchema(header, mapping, "header")
	if err != nil {
		return nil, err
	}
	sch.ncol = len(header)
	return &csvReader{r: r, sch: sch, sep: sep}, nil
}

func detectDelimiter(b []byte) rune {
	counts := map[byte]int{}
	quoted := false
	for _, c := range b {
		if c == '"' {
			quoted = !quoted
			continue
		}
		if quoted {
			continue
		}
		if c == '\n' {
			break
		}
		switch c {
		case ',', ';', '\t', '|':
			counts[c]++
		}
	}
	best, n := byte(','), 0
	for _, c := range []byte{',', ';', '\t', '|'} {
		if counts[c] > n {
			best, n = c, counts[c]
		}
	}
	return rune(best)
}

func (c *csvReader) schema() *schema { return c.sch }
func (c *csvReader) comma() rune     { return c.sep }

func (c *csvReader) next() (row, error) {
	rec, err := c.r.Read()
	if err == nil {
		line, _ := c.r.FieldPos(0)
		return row{line: line, fields: rec}, nil
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return row{line: pe.StartLine, err: &Reject{Line: pe.StartLine, Class: RejectUnreadable, Reason: fmt.Sprintf("unreadable CSV row: %v", pe.Err)}}, nil
	}
	return row{}, err
}
