package sanctions

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// ukDesignation is a Designation of the UK Sanctions List XML published by the FCDO
// (Designations/Designation), the single official UK list since 28 January 2026.
type ukDesignation struct {
	UniqueID       string `xml:"UniqueID"`
	UNReference    string `xml:"UNReferenceNumber"`
	DateDesignated string `xml:"DateDesignated"`
	Kind           string `xml:"IndividualEntityShip"`
	Regime         string `xml:"RegimeName"`
	OtherInfo      string `xml:"OtherInformation"`
	Names          []struct {
		Name1    string `xml:"Name1"`
		Name2    string `xml:"Name2"`
		Name3    string `xml:"Name3"`
		Name4    string `xml:"Name4"`
		Name5    string `xml:"Name5"`
		Name6    string `xml:"Name6"`
		Type     string `xml:"NameType"`
		Strength string `xml:"AliasStrength"`
	} `xml:"Names>Name"`
	NonLatin      []string `xml:"NonLatinNames>NonLatinName>NameNonLatinScript"`
	Addresses     []string `xml:"Addresses>Address>AddressCountry"`
	DOBs          []string `xml:"IndividualDetails>Individual>DOBs>DOB"`
	Nationalities []string `xml:"IndividualDetails>Individual>Nationalities>Nationality"`
}

// ParseUK reads the UK Sanctions List in its XML format (see README.md for the elements used).
// Names are Name1 to Name5 (given names) then Name6 (family name, or the whole name of an
// entity or ship). NameType "Primary Name" is primary, "Primary Name Variation" a strong alias,
// "Alias" strong unless its AliasStrength says "Low quality". Dates are DD/MM/YYYY, and a birth
// date may be partial ("dd/mm/1945").
func ParseUK(r io.Reader) ([]Entry, error) {
	var entries []Entry
	items := map[string]bool{"Designation": true}
	err := streamXML(SourceUK, r, "Designations", items, func(d *xml.Decoder, se xml.StartElement) error {
		var x ukDesignation
		if err := d.DecodeElement(&x, &se); err != nil {
			return fmt.Errorf("uk: Designation: %w", err)
		}
		e, err := x.entry()
		if err != nil {
			return err
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return entries, checkEntries(SourceUK, entries)
}

func (x *ukDesignation) entry() (Entry, error) {
	e := Entry{Source: SourceUK, SourceID: strings.TrimSpace(x.UniqueID)}
	switch strings.ToLower(strings.TrimSpace(x.Kind)) {
	case "individual":
		e.Type = TypePerson
	case "entity":
		e.Type = TypeEntity
	case "ship":
		e.Type = TypeVessel
	default:
		return e, fmt.Errorf("uk: designation %s: unknown IndividualEntityShip %q", e.SourceID, x.Kind)
	}
	for _, n := range x.Names {
		name := joinNonEmpty(n.Name1, n.Name2, n.Name3, n.Name4, n.Name5, n.Name6)
		typ := strings.ToLower(strings.TrimSpace(n.Type))
		s := StrengthStrong
		switch {
		case typ == "primary name":
			s = StrengthPrimary
		case strings.Contains(strings.ToLower(n.Strength), "low"):
			s = StrengthWeak
		}
		e.addName(name, s)
	}
	for _, n := range x.NonLatin {
		e.addName(n, StrengthStrong)
	}
	for _, c := range append(append([]string(nil), x.Nationalities...), x.Addresses...) {
		if code, ok := CountryCode(c); ok {
			e.addCountry(code)
		}
	}
	for _, d := range x.DOBs {
		if b, ok := ukBirthDate(d); ok {
			e.addBirthDate(b)
		}
	}
	e.addProgram(x.Regime)
	e.ListedOn = dmyDate(x.DateDesignated)
	var remarks []string
	if ref := strings.TrimSpace(x.UNReference); ref != "" {
		remarks = append(remarks, "UN reference "+ref+".")
	}
	e.Remarks = joinNonEmpty(append(remarks, x.OtherInfo)...)
	return e, nil
}

// ukBirthDate reads "01/03/1958", "dd/03/1958" and "dd/mm/1945".
func ukBirthDate(s string) (BirthDate, bool) {
	parts := strings.Split(strings.TrimSpace(s), "/")
	if len(parts) != 3 {
		return BirthDate{}, false
	}
	b := BirthDate{Year: atoiOr(parts[2]), Month: atoiOr(parts[1]), Day: atoiOr(parts[0])}
	if b.Year < 1800 || b.Month > 12 {
		return BirthDate{}, false
	}
	if b.Month == 0 {
		b.Day = 0
	}
	if b.Day > 0 && time.Date(b.Year, time.Month(b.Month), b.Day, 0, 0, 0, 0, time.UTC).Day() != b.Day {
		return BirthDate{}, false
	}
	return b, true
}
