package sanctions

import (
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// A download cut short must fail the parse, wherever it is cut: a shorter list would silently
// drop parties. The cuts cover the start, the middle of an element and the last bytes.
func TestParseTruncated(t *testing.T) {
	sources := []struct {
		name  string
		data  []byte
		parse func(io.Reader) ([]Entry, error)
	}{
		{"un", MustReadFile(t, filepath.Join(dataDir, "un", "consolidated.xml")), ParseUN},
		{"eu", MustReadFile(t, filepath.Join("testdata", "eu_fsf_sample.xml")), ParseEU},
		{"uk", MustReadFile(t, filepath.Join("testdata", "uk_sanctions_list_sample.xml")), ParseUK},
		{"fr", MustReadFile(t, filepath.Join("testdata", "fr_registre_gels_sample.json")), ParseFR},
	}
	for _, s := range sources {
		for _, frac := range []float64{0, 0.1, 0.5, 0.9, 0.999} {
			cut := int(frac * float64(len(s.data)))
			for _, n := range []int{cut, len(s.data) - 2} {
				entries, err := s.parse(bytes.NewReader(s.data[:n]))
				if err == nil {
					t.Errorf("%s cut at %d of %d bytes: no error, %d entries", s.name, n, len(s.data), len(entries))
				}
			}
		}
	}
}

// The OFAC legacy CSV has no end marker: a cut inside a row is caught by the field count or an
// open quote, and a cut of sdn.csv between rows by the aliases and addresses of the parties it
// lost. A cut of alt.csv or add.csv exactly between rows cannot be seen in the files; the
// refresh job's CheckReplacement and content hash are the guard there.
func TestParseOFACTruncated(t *testing.T) {
	dir := filepath.Join(dataDir, "ofac")
	sdn := MustReadFile(t, filepath.Join(dir, "sdn.csv"))
	alt := MustReadFile(t, filepath.Join(dir, "alt.csv"))
	add := MustReadFile(t, filepath.Join(dir, "add.csv"))
	parse := func(sdn, alt, add []byte) error {
		_, err := ParseOFAC(bytes.NewReader(sdn), bytes.NewReader(alt), bytes.NewReader(add), nil)
		return err
	}
	if err := parse(sdn, alt, add); err != nil {
		t.Fatalf("the whole files fail: %v", err)
	}
	// lineStart finds the start of the first line after half of b; after is an offset into it.
	lineStart := func(b []byte) int { return bytes.IndexByte(b[len(b)/2:], '\n') + len(b)/2 + 1 }
	tests := []struct {
		name          string
		sdn, alt, add []byte
	}{
		{"sdn mid-row", sdn[:lineStart(sdn)+40], alt, add},
		{"sdn between rows", sdn[:lineStart(sdn)], alt, add},
		{"sdn inside the last quoted remark", sdn[:len(sdn)-5], alt, add},
		{"alt inside a quoted name", sdn, alt[:lineStart(alt)+bytes.Index(alt[lineStart(alt):], []byte(`"aka","`))+10], add},
		{"alt missing fields", sdn, alt[:lineStart(alt)+5], add},
		{"add missing fields", sdn, alt, add[:lineStart(add)+9]},
		{"sdn empty", nil, alt, add},
	}
	for _, tt := range tests {
		if err := parse(tt.sdn, tt.alt, tt.add); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func TestParseMalformed(t *testing.T) {
	sdnRow := `306,"BANCO NACIONAL DE CUBA",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"a.k.a. 'BNC'."` + "\n"
	ofac := func(sdn, alt, add string) error {
		_, err := ParseOFAC(strings.NewReader(sdn), strings.NewReader(alt), strings.NewReader(add), nil)
		return err
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"ofac missing reader", func() error { _, err := ParseOFAC(nil, nil, nil, nil); return err }(), "missing"},
		{"ofac unknown type", ofac(strings.Replace(sdnRow, "-0- ,\"CUBA\"", "\"robot\",\"CUBA\"", 1), "", ""), "unknown SDN_Type"},
		{"ofac bad id", ofac(strings.Replace(sdnRow, "306", "x306", 1), "", ""), "not a positive number"},
		{"ofac duplicate id", ofac(sdnRow+sdnRow, "", ""), "duplicate"},
		{"ofac alias of nobody", ofac(sdnRow, `999,1,"aka","X",-0-`, ""), "not in sdn.csv"},
		{"ofac unknown alt type", ofac(sdnRow, `306,1,"maybe","X",-0-`, ""), "unknown alt_type"},
		{"ofac wrong field count", ofac(`306,"X"`, "", ""), "wrong number of fields"},
		{"un wrong root", parseString(ParseUN, `<export></export>`), "root element"},
		{"un no entries", parseString(ParseUN, `<CONSOLIDATED_LIST><INDIVIDUALS/></CONSOLIDATED_LIST>`), "no entries"},
		{"un no id", parseString(ParseUN, `<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><FIRST_NAME>A</FIRST_NAME></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>`), "without DATAID"},
		{"un no name", parseString(ParseUN, `<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>`), "has no name"},
		{"un two roots", parseString(ParseUN, `<CONSOLIDATED_LIST></CONSOLIDATED_LIST><CONSOLIDATED_LIST></CONSOLIDATED_LIST>`), ""},
		{"eu unknown subject", parseString(ParseEU, `<export><sanctionEntity logicalId="1"><subjectType code="planet"/><nameAlias wholeName="X"/></sanctionEntity></export>`), "unknown subjectType"},
		{"eu duplicate id", parseString(ParseEU, `<export><sanctionEntity logicalId="1"><subjectType code="person"/><nameAlias wholeName="X"/></sanctionEntity><sanctionEntity logicalId="1"><subjectType code="person"/><nameAlias wholeName="Y"/></sanctionEntity></export>`), "duplicate id"},
		{"uk unknown kind", parseString(ParseUK, `<Designations><Designation><UniqueID>A1</UniqueID><IndividualEntityShip>Robot</IndividualEntityShip></Designation></Designations>`), "unknown IndividualEntityShip"},
		{"fr not a publication", parseString(ParseFR, `{"foo": 1}`), "not a register publication"},
		{"fr unknown nature", parseString(ParseFR, `{"Publications":{"PublicationDetail":[{"IdRegistre":1,"Nature":"Robot","Nom":"X"}]}}`), "unknown Nature"},
		{"fr trailing data", parseString(ParseFR, `{"Publications":{"PublicationDetail":[{"IdRegistre":1,"Nature":"Navire","Nom":"X"}]}} {}`), "after the publication"},
		{"fr empty", parseString(ParseFR, ``), "malformed or truncated"},
		{"xml garbage", parseString(ParseEU, `not xml at all`), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil || !strings.Contains(tt.err.Error(), tt.want) {
				t.Errorf("err = %v, want an error containing %q", tt.err, tt.want)
			}
		})
	}
}

func parseString(parse func(io.Reader) ([]Entry, error), s string) error {
	_, err := parse(strings.NewReader(s))
	return err
}

// A failed load changes nothing: the index in use is immutable, and bad queries leave it as it
// was.
func TestBadInputKeepsIndex(t *testing.T) {
	ix, _ := MustRealIndex(t)
	before, err := ix.Search(Query{Name: "BANCO NACIONAL DE CUBA"})
	if err != nil || len(before) == 0 {
		t.Fatalf("search: %v %v", before, err)
	}
	count := ix.Len()
	data := MustReadFile(t, filepath.Join(dataDir, "un", "consolidated.xml"))
	if _, err := ParseUN(bytes.NewReader(data[:len(data)/2])); err == nil {
		t.Fatal("truncated list parsed")
	}
	for _, q := range []string{"", strings.Repeat("x", 10000), "A\x00B", "\xff\xfe"} {
		if _, err := ix.Search(Query{Name: q}); err == nil {
			t.Errorf("Search(%.20q) accepted", q)
		}
	}
	after, err := ix.Search(Query{Name: "BANCO NACIONAL DE CUBA"})
	if err != nil || ix.Len() != count || refs(after) != refs(before) {
		t.Errorf("index changed: %d -> %d entries, %s -> %s", count, ix.Len(), refs(before), refs(after))
	}
}
