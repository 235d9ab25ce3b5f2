package ledger

import (
	"regexp"
	"strconv"
	"strings"
)

// NormalizeRegistrationID removes the spaces, dots and dashes people type in company numbers and
// upper-cases VAT prefixes, so "552 100 554" and "FR 40 303 265 045" are stored in one form.
func NormalizeRegistrationID(s string) string {
	return strings.ToUpper(strings.NewReplacer(" ", "", ".", "", "-", "", "\u00a0", "").Replace(strings.TrimSpace(s)))
}

// RegistrationKind tells what a normalised registration id is: "siren", "siret", "vat", or "" when
// it is none of them (or fails its check digits).
func RegistrationKind(id string) string {
	switch {
	case len(id) == 9 && allDigits(id):
		if luhn(id) {
			return "siren"
		}
	case len(id) == 14 && allDigits(id):
		if luhn(id) || laPosteSIRET(id) {
			return "siret"
		}
	case len(id) > 2 && ValidVAT(id):
		return "vat"
	}
	return ""
}

// SIREN returns the 9-digit French company number held by a SIREN, a SIRET or a French VAT
// number, or "" when id holds none.
func SIREN(id string) string {
	switch RegistrationKind(id) {
	case "siren":
		return id
	case "siret":
		return id[:9]
	case "vat":
		if strings.HasPrefix(id, "FR") {
			return id[4:]
		}
	}
	return ""
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// luhn checks the Luhn checksum used by SIREN and SIRET numbers.
func luhn(s string) bool {
	sum := 0
	double := false
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// laPosteSIRET: La Poste's establishments (SIREN 356000000) do not follow Luhn; INSEE checks
// that the sum of their digits is a multiple of 5.
func laPosteSIRET(s string) bool {
	if !strings.HasPrefix(s, "356000000") {
		return false
	}
	sum := 0
	for i := 0; i < len(s); i++ {
		sum += int(s[i] - '0')
	}
	return sum%5 == 0
}

// vatFormats are the EU VAT number formats (after the two-letter prefix), from the European
// Commission's VIES documentation. Greece uses EL, Northern Ireland XI.
var vatFormats = map[string]*regexp.Regexp{
	"AT": regexp.MustCompile(`^U\d{8}$`),
	"BE": regexp.MustCompile(`^[01]\d{9}$`),
	"BG": regexp.MustCompile(`^\d{9,10}$`),
	"CY": regexp.MustCompile(`^\d{8}[A-Z]$`),
	"CZ": regexp.MustCompile(`^\d{8,10}$`),
	"DE": regexp.MustCompile(`^\d{9}$`),
	"DK": regexp.MustCompile(`^\d{8}$`),
	"EE": regexp.MustCompile(`^\d{9}$`),
	"EL": regexp.MustCompile(`^\d{9}$`),
	"ES": regexp.MustCompile(`^[A-Z0-9]\d{7}[A-Z0-9]$`),
	"FI": regexp.MustCompile(`^\d{8}$`),
	"FR": regexp.MustCompile(`^[A-HJ-NP-Z0-9]{2}\d{9}$`),
	"HR": regexp.MustCompile(`^\d{11}$`),
	"HU": regexp.MustCompile(`^\d{8}$`),
	"IE": regexp.MustCompile(`^(\d{7}[A-W][A-I]?|\d[A-Z+*]\d{5}[A-W])$`),
	"IT": regexp.MustCompile(`^\d{11}$`),
	"LT": regexp.MustCompile(`^(\d{9}|\d{12})$`),
	"LU": regexp.MustCompile(`^\d{8}$`),
	"LV": regexp.MustCompile(`^\d{11}$`),
	"MT": regexp.MustCompile(`^\d{8}$`),
	"NL": regexp.MustCompile(`^\d{9}B\d{2}$`),
	"PL": regexp.MustCompile(`^\d{10}$`),
	"PT": regexp.MustCompile(`^\d{9}$`),
	"RO": regexp.MustCompile(`^\d{2,10}$`),
	"SE": regexp.MustCompile(`^\d{10}01$`),
	"SI": regexp.MustCompile(`^\d{8}$`),
	"SK": regexp.MustCompile(`^\d{10}$`),
	"XI": regexp.MustCompile(`^(\d{9}|\d{12}|GD\d{3}|HA\d{3})$`),
}

// ValidVAT checks an EU VAT number's format, and for France its key against the SIREN.
func ValidVAT(id string) bool {
	if len(id) < 4 {
		return false
	}
	re, ok := vatFormats[id[:2]]
	if !ok || !re.MatchString(id[2:]) {
		return false
	}
	if id[:2] == "FR" && allDigits(id[2:4]) {
		siren, _ := strconv.Atoi(id[4:])
		key, _ := strconv.Atoi(id[2:4])
		return key == (12+3*(siren%97))%97
	}
	return true
}
