package scoring

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/credorisk/credo/internal/fault"
)

// Feature names the integrator fills from the receivables metrics and the solvency snapshot. A
// scorecard may only use these: an unknown name in a model file is a typo, refused at load.
const (
	FeatureWeightedDBT12m     = "weighted_dbt_12m"    // days beyond terms, amount-weighted, signed
	FeatureLateShare12m       = "late_share_12m"      // share of invoices paid late, 0..1
	FeatureMaxDaysOverdue     = "max_days_overdue"    // days, 0 when nothing is overdue
	FeatureOverdueRate        = "overdue_rate"        // overdue share of open receivables, 0..1
	FeatureDBTTrend           = "dbt_trend"           // days, positive = paying more slowly
	FeatureDisputeRate12m     = "dispute_rate_12m"    // share of invoices disputed, 0..1
	FeatureRelationshipMonths = "relationship_months" // months since the first invoice
	FeaturePaidCount12m       = "paid_count_12m"      // invoices paid in 12 months
	FeatureBureauGrade        = "bureau_grade"        // 1 best .. 10 worst
	FeatureCompanyAgeMonths   = "company_age_months"  // months since incorporation
	FeatureOpenInsolvency     = "open_insolvency"     // an insolvency proceeding is open
	FeatureNegativeEquity     = "negative_equity"     // equity below zero in the latest accounts
)

// Kind is the type of a feature value; the zero Kind is a missing value.
type Kind uint8

// The kinds a Value can hold.
const (
	KindMissing Kind = iota
	KindNumber
	KindBool
)

func (k Kind) String() string {
	switch k {
	case KindNumber:
		return "number"
	case KindBool:
		return "boolean"
	default:
		return "missing"
	}
}

// FeatureSpec describes one known feature: its kind and the values it may take.
type FeatureSpec struct {
	Name    string
	Kind    Kind
	Integer bool    // whole numbers only
	Min     float64 // inclusive; -Inf when unbounded
	Max     float64 // inclusive; +Inf when unbounded
}

var inf = math.Inf(1)

var featureSpecs = []FeatureSpec{
	{Name: FeatureWeightedDBT12m, Kind: KindNumber, Min: -inf, Max: inf},
	{Name: FeatureLateShare12m, Kind: KindNumber, Min: 0, Max: 1},
	{Name: FeatureMaxDaysOverdue, Kind: KindNumber, Integer: true, Min: 0, Max: inf},
	{Name: FeatureOverdueRate, Kind: KindNumber, Min: 0, Max: 1},
	{Name: FeatureDBTTrend, Kind: KindNumber, Min: -inf, Max: inf},
	{Name: FeatureDisputeRate12m, Kind: KindNumber, Min: 0, Max: 1},
	{Name: FeatureRelationshipMonths, Kind: KindNumber, Integer: true, Min: 0, Max: inf},
	{Name: FeaturePaidCount12m, Kind: KindNumber, Integer: true, Min: 0, Max: inf},
	{Name: FeatureBureauGrade, Kind: KindNumber, Integer: true, Min: 1, Max: 10},
	{Name: FeatureCompanyAgeMonths, Kind: KindNumber, Integer: true, Min: 0, Max: inf},
	{Name: FeatureOpenInsolvency, Kind: KindBool},
	{Name: FeatureNegativeEquity, Kind: KindBool},
}

// FeatureSpecs lists the known features in a fixed order.
func FeatureSpecs() []FeatureSpec { return slices.Clone(featureSpecs) }

// LookupFeature returns the spec of a known feature.
func LookupFeature(name string) (FeatureSpec, bool) {
	for _, s := range featureSpecs {
		if s.Name == name {
			return s, true
		}
	}
	return FeatureSpec{}, false
}

// Value is one feature value: a number, a boolean, or missing (the zero Value). It encodes to
// JSON as a number, true/false, or null.
type Value struct {
	kind Kind
	num  float64
	b    bool
}

// Number makes a numeric value. NaN and infinities (a 0/0 ratio, for instance) give a missing
// value: they carry no information a bin could use.
func Number(x float64) Value {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return Value{}
	}
	return Value{kind: KindNumber, num: x}
}

// Int makes a numeric value from a whole number.
func Int(n int) Value { return Value{kind: KindNumber, num: float64(n)} }

// Bool makes a boolean value.
func Bool(b bool) Value { return Value{kind: KindBool, b: b} }

// Missing is the missing value, the same as the zero Value.
func Missing() Value { return Value{} }

// NumberPtr makes a numeric value from a nullable number; nil is missing.
func NumberPtr(p *float64) Value {
	if p == nil {
		return Value{}
	}
	return Number(*p)
}

// IntPtr makes a numeric value from a nullable whole number; nil is missing.
func IntPtr(p *int) Value {
	if p == nil {
		return Value{}
	}
	return Int(*p)
}

// BoolPtr makes a boolean value from a nullable boolean; nil is missing.
func BoolPtr(p *bool) Value {
	if p == nil {
		return Value{}
	}
	return Bool(*p)
}

// Kind reports what the value holds.
func (v Value) Kind() Kind { return v.kind }

// IsMissing reports whether the value is missing.
func (v Value) IsMissing() bool { return v.kind == KindMissing }

// Float returns the number and true when the value is numeric.
func (v Value) Float() (float64, bool) { return v.num, v.kind == KindNumber }

// BoolValue returns the boolean and true when the value is a boolean.
func (v Value) BoolValue() (bool, bool) { return v.b, v.kind == KindBool }

// String renders the value as in JSON.
func (v Value) String() string {
	b, _ := v.MarshalJSON()
	return string(b)
}

// MarshalJSON encodes a number with the shortest exact decimal form, so that equal values give
// equal bytes.
func (v Value) MarshalJSON() ([]byte, error) {
	switch v.kind {
	case KindNumber:
		return strconv.AppendFloat(nil, v.num, 'f', -1, 64), nil
	case KindBool:
		return strconv.AppendBool(nil, v.b), nil
	default:
		return []byte("null"), nil
	}
}

// UnmarshalJSON reads a number, a boolean or null.
func (v *Value) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch string(data) {
	case "null":
		*v = Value{}
		return nil
	case "true", "false":
		*v = Bool(data[0] == 't')
		return nil
	}
	var x float64
	if err := json.Unmarshal(data, &x); err != nil {
		return fmt.Errorf("feature value must be a number, a boolean or null: %w", err)
	}
	*v = Number(x)
	return nil
}

// Features holds the inputs of one client, keyed by feature name. An absent name and a missing
// Value are the same thing: the characteristic takes its missing bin.
type Features map[string]Value

// Validate checks every present value against the known features: the name, the kind, whole
// numbers where required and the allowed range. Score never fails, so the integrator calls this
// first to catch a wrongly filled input instead of silently scoring it as missing.
func (f Features) Validate() error {
	names := make([]string, 0, len(f))
	for name := range f {
		names = append(names, name)
	}
	slices.Sort(names) // the order of the field errors must not depend on map iteration
	var fields []fault.FieldError
	for _, name := range names {
		v := f[name]
		spec, ok := LookupFeature(name)
		switch {
		case !ok:
			fields = append(fields, fault.Field(name, "is not a known feature"))
		case v.IsMissing():
		case v.kind != spec.Kind:
			fields = append(fields, fault.Field(name, "must be a %s, got a %s", spec.Kind, v.kind))
		case spec.Integer && v.num != math.Trunc(v.num):
			fields = append(fields, fault.Field(name, "must be a whole number, got %s", v))
		case v.kind == KindNumber && (v.num < spec.Min || v.num > spec.Max):
			fields = append(fields, fault.Field(name, "must be between %s and %s, got %s",
				formatBound(spec.Min), formatBound(spec.Max), v))
		}
	}
	if len(fields) > 0 {
		return fault.Validation("invalid score features", fields...)
	}
	return nil
}

func formatBound(x float64) string {
	if math.IsInf(x, 0) {
		if x < 0 {
			return "-inf"
		}
		return "+inf"
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}
