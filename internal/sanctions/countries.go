package sanctions

import (
	"sort"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// countryAliases are the country and nationality spellings of the lists that the CLDR names
// (English and French, from x/text) do not cover: OFAC's "Korea, North", the UN's long official
// names, the French register's adjectives.
var countryAliases = map[string][]string{
	"KP": {"Korea, North", "North Korea", "Democratic People's Republic of Korea", "DPRK", "North Korean",
		"République populaire démocratique de Corée", "Nord-coréen", "Nord-coréenne"},
	"KR": {"Korea, South", "South Korea", "Republic of Korea", "South Korean"},
	"MM": {"Burma", "Myanmar", "Burmese", "Birmanie"},
	"IR": {"Iran (Islamic Republic of)", "Islamic Republic of Iran", "Iranian", "République islamique d'Iran", "Iranien", "Iranienne"},
	"RU": {"Russian Federation", "Russian", "Fédération de Russie", "Russe"},
	"SY": {"Syrian Arab Republic", "Syrian", "République arabe syrienne", "Syrien", "Syrienne"},
	"CD": {"Congo, Democratic Republic of the", "Democratic Republic of the Congo", "DRC",
		"Congo (Democratic Republic)", "Congo-Kinshasa", "République démocratique du Congo"},
	"CG": {"Congo, Republic of the", "Republic of the Congo", "Congo", "Congo-Brazzaville"},
	"GB": {"United Kingdom of Great Britain and Northern Ireland", "Great Britain", "UK", "British"},
	"US": {"United States of America", "USA", "United States", "American"},
	"PS": {"State of Palestine", "Palestinian Territories", "Palestinian Territory, Occupied", "West Bank", "Gaza", "Palestinian"},
	"TZ": {"United Republic of Tanzania", "Tanzanian"},
	"TR": {"Türkiye", "Turkish"},
	"BO": {"Bolivia (Plurinational State of)"},
	"VE": {"Venezuela (Bolivarian Republic of)", "Venezuelan"},
	"LA": {"Lao People's Democratic Republic", "Laos"},
	"VN": {"Viet Nam", "Vietnamese"},
	"MD": {"Republic of Moldova", "Moldovan"},
	"CZ": {"Czech Republic"},
	"MK": {"Macedonia", "The former Yugoslav Republic of Macedonia", "North Macedonia"},
	"SZ": {"Swaziland"},
	"CV": {"Cape Verde", "Cabo Verde"},
	"CI": {"Ivory Coast", "Cote d'Ivoire"},
	"BN": {"Brunei Darussalam"},
	"FM": {"Micronesia, Federated States of"},
	"HK": {"Hong Kong"},
	"MO": {"Macau", "Macao"},
	"VA": {"Holy See", "Vatican"},
	"TL": {"East Timor"},
	"GM": {"Gambia, The"},
	"BS": {"Bahamas, The"},
	"KG": {"Kyrgyz Republic"},
	"SK": {"Slovak Republic"},
	"BY": {"Belarusian", "Biélorussie", "Bélarus", "Biélorusse"},
	"UA": {"Ukrainian", "Ukrainien", "Ukrainienne"},
	"AF": {"Afghan", "Afghane"},
	"IQ": {"Iraqi", "Irakien", "Irakienne"},
	"LY": {"Libyan", "Libyen", "Libyenne"},
	"CN": {"Chinese", "Chinois", "Chinoise"},
	"FR": {"French", "Français", "Française"},
	"PK": {"Pakistani"},
	"YE": {"Yemeni"},
	"LB": {"Lebanese"},
	"SD": {"Sudanese"},
	"SO": {"Somali"},
	"SA": {"Saudi", "Saudi Arabian"},
	"EG": {"Egyptian"},
	"TN": {"Tunisian"},
	"DZ": {"Algerian"},
	"MA": {"Moroccan"},
	"JO": {"Jordanian"},
	"KW": {"Kuwaiti"},
	"QA": {"Qatari"},
	"ID": {"Indonesian"},
	"PH": {"Filipino"},
	"CO": {"Colombian"},
	"MX": {"Mexican"},
	"CU": {"Cuban"},
	"NI": {"Nicaraguan"},
	"ZW": {"Zimbabwean"},
}

var (
	countryOnce   sync.Once
	countryByName map[string]string
)

// CountryCode maps a country name or nationality as the lists write it ("Korea, North",
// "Russian Federation", "RUSSIE", "Iran (Islamic Republic of)") to its ISO 3166 alpha-2 code.
func CountryCode(name string) (string, bool) {
	countryOnce.Do(buildCountries)
	k := countryKey(name)
	if k == "" {
		return "", false
	}
	if c, ok := countryByName[k]; ok {
		return c, true
	}
	// "Iran (Islamic Republic of)": try without the parenthesis.
	if i := strings.IndexByte(name, '('); i > 0 {
		if c, ok := countryByName[countryKey(name[:i])]; ok {
			return c, true
		}
	}
	// A code written as such ("FR"); lower case is left alone, as the UN writes "na" for
	// "not available".
	if len(name) == 2 && name == strings.ToUpper(name) && isCountryCode(name) {
		return name, true
	}
	return "", false
}

// isCountryCode reports whether s is an ISO 3166 alpha-2 code of a country.
func isCountryCode(s string) bool {
	if len(s) != 2 {
		return false
	}
	r, err := language.ParseRegion(strings.ToUpper(s))
	return err == nil && r.IsCountry()
}

func buildCountries() {
	countryByName = map[string]string{}
	add := func(name, code string) {
		if k := countryKey(name); k != "" {
			if _, taken := countryByName[k]; !taken {
				countryByName[k] = code
			}
		}
	}
	codes := make([]string, 0, len(countryAliases))
	for code := range countryAliases {
		codes = append(codes, code)
	}
	sort.Strings(codes) // a spelling listed under two codes maps to the same one on every run
	for _, code := range codes {
		for _, n := range countryAliases[code] {
			add(n, code)
		}
	}
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			r, err := language.ParseRegion(string([]rune{a, b}))
			if err != nil || !r.IsCountry() || r.Canonicalize() != r {
				continue // deprecated codes (DD for East Germany) would take today's names
			}
			code := r.String()
			for _, d := range []*display.Dictionary{display.English, display.French} {
				n := d.Regions().Name(r)
				if n == "" {
					continue
				}
				add(n, code)
				add(strings.ReplaceAll(n, "St.", "Saint"), code)
				if i := strings.IndexByte(n, '('); i > 0 { // "Myanmar (Burma)"
					add(n[:i], code)
				}
			}
		}
	}
}

// countryKey folds a country name: lower case, accents and punctuation removed, "and" for "&",
// a leading or trailing "the" dropped.
func countryKey(s string) string {
	s = strings.ReplaceAll(foldName(s), "&", " and ")
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		case isApostrophe(r):
		default:
			b.WriteByte(' ')
		}
	}
	f := strings.Fields(b.String())
	if len(f) > 1 && f[0] == "the" {
		f = f[1:]
	}
	if len(f) > 1 && f[len(f)-1] == "the" {
		f = f[:len(f)-1]
	}
	return strings.Join(f, " ")
}
