package sanctions

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/credorisk/credo/internal/ledger"
)

// streamXML reads an XML list element by element: it checks the root element's name, and hands
// each element whose name is in items to fn for decoding. The document must end properly, so a
// truncated download is an error and never a shorter list.
func streamXML(src Source, r io.Reader, root string, items map[string]bool, fn func(d *xml.Decoder, se xml.StartElement) error) error {
	d := xml.NewDecoder(r)
	d.Strict = true
	depth := 0
	sawRoot, closedRoot := false, false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: malformed or truncated XML: %w", src, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				if sawRoot {
					return fmt.Errorf("%s: a second root element <%s>", src, t.Name.Local)
				}
				if t.Name.Local != root {
					return fmt.Errorf("%s: root element is <%s>, want <%s>", src, t.Name.Local, root)
				}
				sawRoot = true
				depth++
				continue
			}
			if items[t.Name.Local] {
				if err := fn(d, t); err != nil {
					return err
				}
				continue // DecodeElement consumed the end tag
			}
			depth++
		case xml.EndElement:
			depth--
			if depth == 0 {
				closedRoot = true
			}
		}
	}
	if !sawRoot || !closedRoot {
		return fmt.Errorf("%s: document ends before its root element <%s> is closed (truncated?)", src, root)
	}
	return nil
}

// atoiOr reads a trimmed integer, or returns 0.
func atoiOr(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0
	}
	return n
}

// isoDate reads the date part of "YYYY-MM-DD" or "YYYY-MM-DDThh:mm:ss...", nil when absent or
// not a date.
func isoDate(s string) *ledger.Date {
	s = strings.TrimSpace(s)
	if len(s) < 10 {
		return nil
	}
	d, err := ledger.ParseDate(s[:10])
	if err != nil {
		return nil
	}
	return &d
}

// dmyDate reads "DD/MM/YYYY" (UK list), nil when absent or not a date.
func dmyDate(s string) *ledger.Date {
	d, err := ledger.ParseDateLayout(strings.TrimSpace(s), "02/01/2006")
	if err != nil {
		return nil
	}
	return &d
}

// joinNonEmpty joins the non-blank parts with single spaces.
func joinNonEmpty(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}
