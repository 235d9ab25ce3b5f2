package solvency

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/credorisk/credo/internal/fault"
)

// SIREN returns the 9-digit French company number behind the registration id: a SIREN itself,
// the first 9 digits of a SIRET, or the last 9 of a French VAT number (FRkk + SIREN). It fails
// with ErrUnsupported (wrapped in a fault Invalid error) for a non-French company or an id that
// is none of these or fails its check digits.
func (c Company) SIREN() (string, error) {
	country := strings.ToUpper(strings.TrimSpace(c.Country))
	if country != "" && country != "FR" {
		return "", unsupported(fmt.Sprintf("the company is registered in %s, not in France", country))
	}
	id := normalizeRegistrationID(c.RegistrationID)
	if id == "" {
		return "", unsupported("the client has no registration id")
	}
	if strings.HasPrefix(id, "FR") && len(id) == 13 && allDigits(id[2:]) {
		// FR + 2-digit key + SIREN; the key is (12 + 3 × (SIREN mod 97)) mod 97.
		key, _ := strconv.Atoi(id[2:4])
		n, _ := strconv.Atoi(id[4:])
		if key != (12+3*(n%97))%97 {
			return "", unsupported(fmt.Sprintf("registration id %q has a wrong VAT key", c.RegistrationID))
		}
		id = id[4:]
	}
	switch {
	case len(id) == 9 && allDigits(id) && (luhn(id) || id == laPosteSIREN):
		return id, nil
	case len(id) == 14 && allDigits(id) && (luhn(id) || laPosteSIRET(id)):
		return id[:9], nil
	}
	return "", unsupported(fmt.Sprintf("registration id %q is not a valid SIREN, SIRET or French VAT number", c.RegistrationID))
}

func unsupported(msg string) error {
	return &fault.Error{Code: fault.Invalid, Message: msg, Err: ErrUnsupported,
		Fields: []fault.FieldError{fault.Field("registration_id", "%s", msg)}}
}

var registrationSeparators = strings.NewReplacer(" ", "", ".", "", "-", "", "\u00a0", "", "\u202f", "")

// normalizeRegistrationID removes what people type inside company numbers.
func normalizeRegistrationID(s string) string {
	return strings.ToUpper(registrationSeparators.Replace(strings.TrimSpace(s)))
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// luhn checks the Luhn key that SIREN and SIRET numbers carry.
func luhn(s string) bool {
	sum, double := 0, false
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// laPosteSIREN is La Poste's SIREN; its SIRETs break the Luhn rule (INSEE checks that the sum of
// their digits is a multiple of 5 instead).
const laPosteSIREN = "356000000"

func laPosteSIRET(s string) bool {
	if !strings.HasPrefix(s, laPosteSIREN) {
		return false
	}
	sum := 0
	for i := 0; i < len(s); i++ {
		sum += int(s[i] - '0')
	}
	return sum%5 == 0
}
