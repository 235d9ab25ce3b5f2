package scoring

import (
	"errors"
	"math"
	"strconv"
	"strings"

	"golang.org/x/text/language"
)

// The supported languages of reason texts; every model must give a text in each.
const (
	langEN = iota
	langFR
	numLangs
)

var langCodes = [numLangs]string{"en", "fr"}

var langMatcher = language.NewMatcher([]language.Tag{language.English, language.French})

// MatchLanguage picks "en" or "fr" from an Accept-Language header (q-values and regions such as
// fr-CA understood); anything else gives "en".
func MatchLanguage(acceptLanguage string) string {
	_, i := language.MatchStrings(langMatcher, acceptLanguage)
	return langCodes[i]
}

// ReasonText is one reason in one language, as the score endpoint shows it.
type ReasonText struct {
	Code       string `json:"code"`
	Text       string `json:"text"`
	PointsLost int    `json:"points_lost"`
}

// Reasons returns the result's reasons in lang ("fr" or a French tag such as "fr-FR" gives
// French, anything else English), most points lost first.
func Reasons(r Result, lang string) []ReasonText {
	var fr bool
	switch strings.ToLower(lang) {
	case "en":
	case "fr":
		fr = true
	default: // a full header or a regional tag: worth the matcher's parsing
		fr = MatchLanguage(lang) == "fr"
	}
	out := make([]ReasonText, len(r.Reasons))
	for i, rs := range r.Reasons {
		t := rs.Text.EN
		if fr {
			t = rs.Text.FR
		}
		out[i] = ReasonText{Code: rs.Code, Text: t, PointsLost: rs.PointsLost}
	}
	return out
}

// Format says how a reason text shows the client's value.
type Format string

// The formats a reason may use.
const (
	FormatDays    Format = "days"    // rounded to whole days: "23 days", "23 jours"
	FormatPercent Format = "percent" // a 0..1 share, one decimal at most: "12.5%", "12,5 %"
	FormatMonths  Format = "months"  // whole months: "14 months", "14 mois"
	FormatCount   Format = "count"   // a whole number: "3"
	FormatGrade   Format = "grade"   // a whole number: "7"
	FormatYesNo   Format = "yesno"   // a boolean: "yes"/"no", "oui"/"non"
)

var formats = []Format{FormatDays, FormatPercent, FormatMonths, FormatCount, FormatGrade, FormatYesNo}

func (f Format) valid() bool {
	for _, g := range formats {
		if f == g {
			return true
		}
	}
	return false
}

func formatList() string {
	s := make([]string, len(formats))
	for i, f := range formats {
		s[i] = string(f)
	}
	return strings.Join(s, ", ")
}

func knownFeatureList() string {
	s := make([]string, len(featureSpecs))
	for i, f := range featureSpecs {
		s[i] = f.Name
	}
	return strings.Join(s, ", ")
}

// placeholder is where a reason text puts the client's value.
const placeholder = "{value}"

// template is a reason text cut around its placeholder once at load, so filling it is one
// concatenation.
type template struct {
	before, after string
	hasValue      bool
}

func compileTemplate(s string) (template, error) {
	if strings.Count(s, placeholder) > 1 {
		return template{}, errors.New("use {value} at most once")
	}
	before, after, found := strings.Cut(s, placeholder)
	if strings.ContainsAny(before+after, "{}") {
		return template{}, errors.New("the only placeholder is {value}; remove other braces")
	}
	return template{before: before, after: after, hasValue: found}, nil
}

// reasonTemplate is a characteristic's reason: code, value format and texts.
type reasonTemplate struct {
	code       string
	codeLine   int
	format     Format
	formatLine int
	text       [numLangs]template
	missing    [numLangs]string
}

// texts writes the reason for value v in every language.
func (r *reasonTemplate) texts(v Value) Texts {
	if v.IsMissing() {
		return Texts{EN: r.missing[langEN], FR: r.missing[langFR]}
	}
	return Texts{EN: r.fill(langEN, v), FR: r.fill(langFR, v)}
}

func (r *reasonTemplate) fill(lang int, v Value) string {
	t := r.text[lang]
	if !t.hasValue {
		return t.before
	}
	return t.before + formatValue(r.format, lang, v) + t.after
}

// formatValue renders v for a reader; the loader guarantees the format suits v's kind.
func formatValue(f Format, lang int, v Value) string {
	if f == FormatYesNo {
		yes := [numLangs]string{"yes", "oui"}
		no := [numLangs]string{"no", "non"}
		if v.b {
			return yes[lang]
		}
		return no[lang]
	}
	switch f {
	case FormatPercent:
		s := strconv.FormatFloat(roundHalfAway(v.num*1000)/10, 'f', -1, 64)
		if lang == langFR {
			return strings.Replace(s, ".", ",", 1) + " %"
		}
		return s + "%"
	case FormatDays:
		return unit(int(roundHalfAway(v.num)), lang, [numLangs][2]string{{"day", "days"}, {"jour", "jours"}})
	case FormatMonths:
		return unit(int(roundHalfAway(v.num)), lang, [numLangs][2]string{{"month", "months"}, {"mois", "mois"}})
	}
	return strconv.Itoa(int(roundHalfAway(v.num)))
}

// roundHalfAway rounds half away from zero and never gives -0, which would print as "-0".
func roundHalfAway(x float64) float64 {
	r := math.Round(x)
	if r == 0 {
		return 0
	}
	return r
}

// unit writes n with its noun: English is singular for ±1 only, French for -1, 0 and 1.
func unit(n, lang int, nouns [numLangs][2]string) string {
	a := n
	if a < 0 {
		a = -a
	}
	singular := a == 1 || (lang == langFR && a == 0)
	noun := nouns[lang][1]
	if singular {
		noun = nouns[lang][0]
	}
	return strconv.Itoa(n) + " " + noun
}
