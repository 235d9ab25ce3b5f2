package sanctions

import (
	"errors"
	"strings"
	"testing"

	"github.com/credorisk/credo/internal/fault"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"case and spaces", "  Banco   NACIONAL  de Cuba ", "banco nacional cuba"},
		{"surname first", "PUTIN, Vladimir Vladimirovich", "vladimir vladimirovich putin"},
		{"accents", "José Müller-Lüdenscheidt", "jose muller ludenscheidt"},
		{"cyrillic", "Владимир Путин", "vladimir putin"},
		{"cyrillic soft and hard signs", "Дьяченко Объединённая Щукина", "dyachenko obedinennaya shchukina"},
		{"ukrainian", "Їжак Євген Ґудзь", "yizhak yevgen gudz"},
		{"special latin letters", "Łukasz Straße Søren Æbelø", "lukasz strasse soren aebelo"},
		{"apostrophes join", "O'BRIEN, Sa'ad", "saad obrien"},
		{"legal form at the end", "ANGLO-CARIBBEAN CO., LTD.", "anglo caribbean #legal"},
		{"two legal forms at the end", "SAFE TRADE LLC FZE", "safe trade #legal #legal"},
		{"legal form at the start", "OOO Romashka", "#legal romashka"},
		{"mexican legal form", "MI FEL, S. DE R.L. DE C.V.", "mi fel #legal"},
		{"dotted letters collapse", "K.A.S. GROUP L.L.C.", "kas group #legal"},
		{"initials kept", "J. P. MORGAN", "j p morgan"},
		{"numbers are words", "SNOW STORM 1", "snow storm 1"},
		{"stop words dropped", "The Bank of the East and West", "bank east west"},
		{"only stop words kept", "THE", "the"},
		{"hyphens split", "AL-QAEDA", "al qaeda"},
		{"fullwidth folded", "ＡＣＭＥ", "acme"},
		{"misspelt legal form at the end", "KEENCLOUD LIMITJED", "keencloud #legal"},
		{"word like a legal form at the start", "CORPORACION HANDAL S. DE R.L.", "corporacion handal #legal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// A known type changes two rules: a company is not reordered around its comma, and a person
// keeps words that look like legal forms.
func TestNormalizeByType(t *testing.T) {
	tests := []struct {
		in   string
		typ  EntryType
		want string
	}{
		{"BANK MELLI IRAN, LONDON BRANCH", TypeEntity, "bank melli iran london branch"},
		{"BANK MELLI IRAN, LONDON BRANCH", "", "london branch bank melli iran"},
		{"SA Ali", TypePerson, "sa ali"},
		{"SA Ali", TypeEntity, "#legal ali"},
	}
	for _, tt := range tests {
		var keys []string
		for _, tok := range normalizeName(tt.in, tt.typ) {
			keys = append(keys, tok.key)
		}
		if got := strings.Join(keys, " "); got != tt.want {
			t.Errorf("normalizeName(%q, %q) = %q, want %q", tt.in, tt.typ, got, tt.want)
		}
	}
}

func TestQueryNameValidation(t *testing.T) {
	tests := []struct {
		name string
		in   string
		msg  string
	}{
		{"empty", "", "must not be empty"},
		{"blank", "   ", "must not be empty"},
		{"too long", strings.Repeat("a", MaxNameLength+1), "at most 512 characters"},
		{"ten thousand characters", strings.Repeat("Mohammed ", 1112), "at most 512 characters"},
		{"nul", "ACME\x00LTD", "control characters"},
		{"newline", "ACME\nLTD", "control characters"},
		{"escape", "\x1b[31mACME", "control characters"},
		{"C1 control", "ACME\u0085", "control characters"},
		{"invalid utf-8", "ACME\xff", "valid UTF-8"},
		{"punctuation only", "!!! ---", "letters or digits"},
		{"too many words", strings.Repeat("ab ", 33), "at most 32 words"},
	}
	ix := NewIndex([]Entry{{Source: SourceOFAC, SourceID: "1", Type: TypeEntity, Names: []Name{{"ACME LTD", StrengthPrimary}}}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ix.Search(Query{Name: tt.in})
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Code != fault.Invalid {
				t.Fatalf("err = %v, want a validation error", err)
			}
			if len(fe.Fields) != 1 || fe.Fields[0].Field != "name" || !strings.Contains(fe.Fields[0].Message, tt.msg) {
				t.Errorf("fields = %+v, want name: ...%s", fe.Fields, tt.msg)
			}
		})
	}
}
