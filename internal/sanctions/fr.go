package sanctions

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// frPublication is the French Trésor "Registre national des gels" JSON publication.
type frPublication struct {
	Publications *struct {
		DatePublication   string     `json:"DatePublication"`
		PublicationDetail []frDetail `json:"PublicationDetail"`
	} `json:"Publications"`
}

type frDetail struct {
	IDRegistre     json.Number `json:"IdRegistre"`
	Nature         string      `json:"Nature"`
	Nom            string      `json:"Nom"`
	RegistreDetail []struct {
		TypeChamp string           `json:"TypeChamp"`
		Valeur    []map[string]any `json:"Valeur"`
	} `json:"RegistreDetail"`
}

// ParseFR reads the French national freeze register JSON
// (Publications.PublicationDetail[]): Nature "Personne physique" is a person, "Personne
// morale" an entity, "Navire" a vessel; a person's primary name is PRENOM then Nom; ALIAS values
// are strong aliases unless their comment calls them of low quality ("faible qualité").
// Countries come from NATIONALITE and addresses, written in French.
func ParseFR(r io.Reader) ([]Entry, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var doc frPublication
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("fr: malformed or truncated JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("fr: unexpected data after the publication")
	}
	if doc.Publications == nil || doc.Publications.PublicationDetail == nil {
		return nil, fmt.Errorf("fr: not a register publication: Publications.PublicationDetail is missing")
	}
	entries := make([]Entry, 0, len(doc.Publications.PublicationDetail))
	for i := range doc.Publications.PublicationDetail {
		e, err := doc.Publications.PublicationDetail[i].entry()
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	return entries, checkEntries(SourceFR, entries)
}

func (d *frDetail) entry() (Entry, error) {
	e := Entry{Source: SourceFR, SourceID: d.IDRegistre.String()}
	switch strings.ToLower(strings.TrimSpace(d.Nature)) {
	case "personne physique":
		e.Type = TypePerson
	case "personne morale":
		e.Type = TypeEntity
	case "navire":
		e.Type = TypeVessel
	default:
		return e, fmt.Errorf("fr: IdRegistre %s: unknown Nature %q", e.SourceID, d.Nature)
	}
	var given []string
	var aliases []Name
	var notes []string
	for _, f := range d.RegistreDetail {
		for _, v := range f.Valeur {
			switch f.TypeChamp {
			case "PRENOM":
				given = append(given, frString(v, "Prenom"))
			case "ALIAS":
				s := StrengthStrong
				if c := strings.ToLower(frString(v, "Commentaire")); strings.Contains(c, "faible") || strings.Contains(c, "low quality") {
					s = StrengthWeak
				}
				aliases = append(aliases, Name{Name: frString(v, "Alias"), Strength: s})
			case "DATE_DE_NAISSANCE":
				b := BirthDate{Year: atoiOr(frString(v, "Annee")), Month: atoiOr(frString(v, "Mois")), Day: atoiOr(frString(v, "Jour"))}
				e.addBirthDate(b)
			case "NATIONALITE", "ADRESSE_PM", "ADRESSE_PP":
				if c, ok := CountryCode(frString(v, "Pays")); ok {
					e.addCountry(c)
				}
			case "FONDEMENT_JURIDIQUE":
				e.addProgram(frString(v, "FondementJuridiqueLabel"))
			case "REFERENCE_UE":
				notes = append(notes, "EU reference "+frString(v, "ReferenceUe")+".")
			case "REFERENCE_ONU":
				notes = append(notes, "UN reference "+frString(v, "ReferenceOnu")+".")
			case "MOTIFS":
				notes = append(notes, frString(v, "Motifs"))
			}
		}
	}
	nom := strings.TrimSpace(d.Nom)
	if e.Type == TypePerson && len(given) > 0 {
		e.addName(joinNonEmpty(strings.Join(given, " "), nom), StrengthPrimary)
	} else {
		e.addName(nom, StrengthPrimary)
	}
	for _, a := range aliases {
		e.addName(a.Name, a.Strength)
	}
	e.Remarks = joinNonEmpty(notes...)
	return e, nil
}

// frString reads a field of a Valeur object as text, whatever its JSON type.
func frString(v map[string]any, key string) string {
	switch x := v[key].(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(x)
	default:
		return strings.TrimSpace(fmt.Sprint(x))
	}
}
