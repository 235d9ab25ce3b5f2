package sanctions

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// euEntity is a sanctionEntity of the EU Financial Sanctions Files (FSF) XML, namespace
// http://eu.europa.ec/fpi/fsd/export (encoding/xml matches the local names).
type euEntity struct {
	LogicalID       string   `xml:"logicalId,attr"`
	EURef           string   `xml:"euReferenceNumber,attr"`
	UNRef           string   `xml:"unitedNationId,attr"`
	DesignationDate string   `xml:"designationDate,attr"`
	Remarks         []string `xml:"remark"`
	SubjectType     struct {
		Code string `xml:"code,attr"`
	} `xml:"subjectType"`
	Regulations []struct {
		Programme       string `xml:"programme,attr"`
		PublicationDate string `xml:"publicationDate,attr"`
	} `xml:"regulation"`
	Names []struct {
		Whole  string `xml:"wholeName,attr"`
		First  string `xml:"firstName,attr"`
		Middle string `xml:"middleName,attr"`
		Last   string `xml:"lastName,attr"`
		Strong string `xml:"strong,attr"`
	} `xml:"nameAlias"`
	Citizenships []euCountry `xml:"citizenship"`
	Addresses    []euCountry `xml:"address"`
	Births       []struct {
		Date  string `xml:"birthdate,attr"`
		Year  string `xml:"year,attr"`
		Month string `xml:"monthOfYear,attr"`
		Day   string `xml:"dayOfMonth,attr"`
		Circa string `xml:"circa,attr"`
		From  string `xml:"yearRangeFrom,attr"`
		To    string `xml:"yearRangeTo,attr"`
	} `xml:"birthdate"`
}

type euCountry struct {
	Code string `xml:"countryIso2Code,attr"`
}

// ParseEU reads the EU Financial Sanctions Files XML (export/sanctionEntity). The first strong
// nameAlias is the primary name, other strong ones strong aliases, strong="false" ones weak;
// subjectType "person" is a person and "enterprise" an entity. Countries come from the ISO codes
// of citizenship and address ("00" means unknown).
func ParseEU(r io.Reader) ([]Entry, error) {
	var entries []Entry
	items := map[string]bool{"sanctionEntity": true}
	err := streamXML(SourceEU, r, "export", items, func(d *xml.Decoder, se xml.StartElement) error {
		var x euEntity
		if err := d.DecodeElement(&x, &se); err != nil {
			return fmt.Errorf("eu: sanctionEntity: %w", err)
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
	return entries, checkEntries(SourceEU, entries)
}

func (x *euEntity) entry() (Entry, error) {
	e := Entry{Source: SourceEU, SourceID: strings.TrimSpace(x.LogicalID)}
	switch strings.ToLower(strings.TrimSpace(x.SubjectType.Code)) {
	case "person":
		e.Type = TypePerson
	case "enterprise":
		e.Type = TypeEntity
	case "vessel":
		e.Type = TypeVessel
	case "aircraft":
		e.Type = TypeAircraft
	default:
		return e, fmt.Errorf("eu: sanctionEntity %s: unknown subjectType code %q", e.SourceID, x.SubjectType.Code)
	}
	primary := false
	for _, n := range x.Names {
		name := strings.TrimSpace(n.Whole)
		if name == "" {
			name = joinNonEmpty(n.First, n.Middle, n.Last)
		}
		s := StrengthStrong
		switch {
		case strings.EqualFold(strings.TrimSpace(n.Strong), "false"):
			s = StrengthWeak
		case !primary && name != "":
			s, primary = StrengthPrimary, true
		}
		e.addName(name, s)
	}
	for _, c := range append(append([]euCountry(nil), x.Citizenships...), x.Addresses...) {
		if isCountryCode(c.Code) {
			e.addCountry(strings.ToUpper(c.Code))
		}
	}
	for _, b := range x.Births {
		bd := BirthDate{Year: atoiOr(b.Year), Month: atoiOr(b.Month), Day: atoiOr(b.Day)}
		if d := isoDate(b.Date); d != nil {
			y, m, day := d.Parts()
			bd = BirthDate{Year: y, Month: int(m), Day: day}
		}
		if bd.Year == 0 && b.From != "" {
			bd.Year = atoiOr(b.From)
		}
		if to := atoiOr(b.To); to > bd.Year && bd.Year > 0 {
			bd.ToYear = to
		}
		bd.Circa = strings.EqualFold(b.Circa, "true")
		e.addBirthDate(bd)
	}
	for _, r := range x.Regulations {
		e.addProgram(r.Programme)
		if d := isoDate(r.PublicationDate); d != nil && (e.ListedOn == nil || *d < *e.ListedOn) {
			e.ListedOn = d
		}
	}
	if d := isoDate(x.DesignationDate); d != nil {
		e.ListedOn = d
	}
	var remarks []string
	if ref := strings.TrimSpace(x.EURef); ref != "" {
		remarks = append(remarks, "EU reference "+ref+".")
	}
	if ref := strings.TrimSpace(x.UNRef); ref != "" {
		remarks = append(remarks, "UN reference "+ref+".")
	}
	e.Remarks = joinNonEmpty(append(remarks, x.Remarks...)...)
	return e, nil
}
