package ledger

import (
	"encoding/json"
	"testing"
)

func TestParseMoney(t *testing.T) {
	tests := []struct {
		in      string
		decimal byte
		want    Money
		bad     bool
	}{
		{"0", '.', 0, false},
		{"12", '.', 1200, false},
		{"12.5", '.', 1250, false},
		{"12.05", '.', 1205, false},
		{"-3.10", '.', -310, false},
		{"+7.01", '.', 701, false},
		{".5", '.', 50, false},
		{"1 234,56", ',', 123456, false},
		{"1.234,56", ',', 123456, false},
		{"12.345", '.', 0, true},
		{"12.", '.', 0, true},
		{"", '.', 0, true},
		{"abc", '.', 0, true},
		{"1e3", '.', 0, true},
		{"1,5", '.', 0, true},
		{"9999999999999999", '.', 0, true},
		{"--1", '.', 0, true},
	}
	for _, tt := range tests {
		got, err := ParseMoney(tt.in, tt.decimal)
		if (err != nil) != tt.bad {
			t.Errorf("ParseMoney(%q) error = %v, want error %v", tt.in, err, tt.bad)
			continue
		}
		if !tt.bad && got != tt.want {
			t.Errorf("ParseMoney(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestMoneyJSON(t *testing.T) {
	for _, m := range []Money{0, 1, 99, 100, 123456, -5, -12345} {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var back Money
		if err := json.Unmarshal(b, &back); err != nil || back != m {
			t.Errorf("round trip %d: %s -> %d, %v", m, b, back, err)
		}
	}
	if b, _ := json.Marshal(Money(-5)); string(b) != "-0.05" {
		t.Errorf("Money(-5) = %s, want -0.05", b)
	}
	for _, bad := range []string{`"12.00"`, `1e2`, `12.345`, `true`} {
		var m Money
		if err := json.Unmarshal([]byte(bad), &m); err == nil {
			t.Errorf("Unmarshal(%s) accepted", bad)
		}
	}
}

func TestDates(t *testing.T) {
	d, err := ParseDate("2024-02-29")
	if err != nil {
		t.Fatal(err)
	}
	if got := d.AddMonths(-1).String(); got != "2024-01-29" {
		t.Errorf("AddMonths(-1) = %s", got)
	}
	if got := DateOf(2024, 3, 31).AddMonths(-1).String(); got != "2024-02-29" {
		t.Errorf("2024-03-31 minus a month = %s, want 2024-02-29 (clamped)", got)
	}
	if got := d.MonthStart().String() + " " + d.MonthEnd().String(); got != "2024-02-01 2024-02-29" {
		t.Errorf("month bounds = %s", got)
	}
	if DateOf(2013, 6, 30)-DateOf(2013, 4, 1)+1 != 91 {
		t.Error("Q2 2013 should have 91 days")
	}
	for _, bad := range []string{"2023-02-29", "2023-13-01", "2023-1-1", "", "1850-01-01", "20230101"} {
		if _, err := ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) accepted", bad)
		}
	}
	us, err := ParseDateLayout("1/2/2013", "1/2/2006")
	if err != nil || us.String() != "2013-01-02" {
		t.Errorf("us date = %s, %v", us, err)
	}
}
