package solvency

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Mapping is a bureau's configuration: where its report lives and how its rating scales map to
// Credo's grade, 1 (best) to 10 (worst). Bureaus run their scales in opposite directions, so the
// mapping is data, not code (deploy/bureau-mapping.example.yaml documents every key).
type Mapping struct {
	// Provider names the bureau in scale descriptions ("creditsafe").
	Provider string `yaml:"provider"`
	// ReportPath is appended to the bureau URL; {country}, {siren} and {registration_id} are
	// replaced (default /companies/{country}-X-{registration_id}, Creditsafe's connectId form).
	ReportPath string `yaml:"report_path"`
	// CommonValue maps letter ratings to grades; a null grade means "no grade" (e.g. "not rated").
	CommonValue map[string]*int `yaml:"common_value"`
	// ProviderValue maps the numeric score; it takes precedence when the report holds a number.
	ProviderValue *ScoreScale `yaml:"provider_value"`
}

// Scale directions.
const (
	HigherIsBetter = "higher_is_better"
	LowerIsBetter  = "lower_is_better"
)

// ScoreScale is a numeric bureau scale.
type ScoreScale struct {
	Min       float64 `yaml:"min"`
	Max       float64 `yaml:"max"`
	Direction string  `yaml:"direction"`
	// Bands map inclusive score ranges to grades. Without bands the scale maps linearly onto ten
	// equal slices, in the scale's direction.
	Bands []Band `yaml:"bands"`
}

// Band is one inclusive range of a numeric scale and its grade.
type Band struct {
	From  float64 `yaml:"from"`
	To    float64 `yaml:"to"`
	Grade int     `yaml:"grade"`
}

// DefaultReportPath is Creditsafe's company report path.
const DefaultReportPath = "/companies/{country}-X-{registration_id}"

var placeholderRE = regexp.MustCompile(`\{[^}]*\}`)

// LoadMapping reads and validates a mapping file.
func LoadMapping(path string) (*Mapping, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bureau mapping: %w", err)
	}
	m, err := ParseMapping(b)
	if err != nil {
		return nil, fmt.Errorf("bureau mapping %s: %w", path, err)
	}
	return m, nil
}

// ParseMapping reads a mapping from YAML, refusing unknown keys (a typo must not silently drop a
// band), and validates it.
func ParseMapping(data []byte) (*Mapping, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var m Mapping
	if err := dec.Decode(&m); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the mapping is empty")
		}
		return nil, err
	}
	if m.ReportPath == "" {
		m.ReportPath = DefaultReportPath
	}
	if m.Provider == "" {
		m.Provider = "bureau"
	}
	norm := make(map[string]*int, len(m.CommonValue))
	for k, v := range m.CommonValue {
		norm[strings.ToUpper(strings.TrimSpace(k))] = v
	}
	m.CommonValue = norm
	if err := m.validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

func (m *Mapping) validate() error {
	var errs []error
	if !strings.HasPrefix(m.ReportPath, "/") {
		errs = append(errs, errors.New("report_path must start with /"))
	}
	for _, ph := range placeholderRE.FindAllString(m.ReportPath, -1) {
		if ph != "{country}" && ph != "{siren}" && ph != "{registration_id}" {
			errs = append(errs, fmt.Errorf("report_path: unknown placeholder %s (use {country}, {siren}, {registration_id})", ph))
		}
	}
	if len(m.CommonValue) == 0 && m.ProviderValue == nil {
		errs = append(errs, errors.New("give common_value, provider_value or both"))
	}
	for k, g := range m.CommonValue {
		if g != nil && (*g < 1 || *g > 10) {
			errs = append(errs, fmt.Errorf("common_value %s: grade %d must be 1 to 10 (or null for no grade)", k, *g))
		}
	}
	if s := m.ProviderValue; s != nil {
		errs = append(errs, s.validate()...)
	}
	return errors.Join(errs...)
}

func (s *ScoreScale) validate() []error {
	var errs []error
	if s.Direction != HigherIsBetter && s.Direction != LowerIsBetter {
		errs = append(errs, fmt.Errorf("provider_value.direction must be %s or %s", HigherIsBetter, LowerIsBetter))
	}
	if !(s.Min < s.Max) {
		errs = append(errs, errors.New("provider_value: min must be below max"))
	}
	bands := slices.Clone(s.Bands)
	slices.SortFunc(bands, func(a, b Band) int { return cmpFloat(a.From, b.From) })
	integral := true
	for _, b := range bands {
		integral = integral && b.From == math.Trunc(b.From) && b.To == math.Trunc(b.To)
	}
	for i, b := range bands {
		switch {
		case b.Grade < 1 || b.Grade > 10:
			errs = append(errs, fmt.Errorf("provider_value band %g-%g: grade %d must be 1 to 10", b.From, b.To, b.Grade))
		case b.From > b.To:
			errs = append(errs, fmt.Errorf("provider_value band %g-%g: from is above to", b.From, b.To))
		case b.From < s.Min || b.To > s.Max:
			errs = append(errs, fmt.Errorf("provider_value band %g-%g is outside %g-%g", b.From, b.To, s.Min, s.Max))
		}
		if i == 0 {
			continue
		}
		prev := bands[i-1]
		switch {
		case b.From <= prev.To:
			errs = append(errs, fmt.Errorf("provider_value bands %g-%g and %g-%g overlap", prev.From, prev.To, b.From, b.To))
		case integral && b.From > prev.To+1:
			errs = append(errs, fmt.Errorf("provider_value bands leave a gap between %g and %g", prev.To, b.From))
		}
		// A better score must never get a worse grade: that is what direction means.
		if s.Direction == HigherIsBetter && b.Grade > prev.Grade || s.Direction == LowerIsBetter && b.Grade < prev.Grade {
			errs = append(errs, fmt.Errorf("provider_value band %g-%g: grade %d contradicts direction %s", b.From, b.To, b.Grade, s.Direction))
		}
	}
	if len(bands) > 0 && (bands[0].From != s.Min || bands[len(bands)-1].To != s.Max) {
		errs = append(errs, fmt.Errorf("provider_value bands must cover %g to %g", s.Min, s.Max))
	}
	return errs
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// grade maps a numeric score; ok is false outside the scale or in a gap between bands.
func (s *ScoreScale) grade(v float64) (int, bool) {
	if v < s.Min || v > s.Max || math.IsNaN(v) {
		return 0, false
	}
	if len(s.Bands) > 0 {
		for _, b := range s.Bands {
			if v >= b.From && v <= b.To {
				return b.Grade, true
			}
		}
		return 0, false
	}
	good := (v - s.Min) / (s.Max - s.Min)
	if s.Direction == LowerIsBetter {
		good = 1 - good
	}
	return min(max(10-int(math.Floor(good*10)), 1), 10), true
}

// Rating is what GradeFor made of a bureau's rating.
type Rating struct {
	Grade    *int
	RawScore string
	Scale    string
	Warning  string // set when a value was present but could not be mapped
}

// GradeFor maps a bureau rating: the numeric provider value when it is a number and the mapping
// has a numeric scale, else the letter (common value). Non-numeric provider values ("Not Rated")
// fall back to the letter.
func (m *Mapping) GradeFor(commonValue, providerValue string) Rating {
	commonValue = strings.ToUpper(strings.TrimSpace(commonValue))
	providerValue = strings.TrimSpace(providerValue)
	var r Rating
	if s := m.ProviderValue; s != nil && providerValue != "" {
		if v, err := strconv.ParseFloat(strings.Replace(providerValue, ",", ".", 1), 64); err == nil {
			r.RawScore = providerValue
			r.Scale = fmt.Sprintf("%s score %g-%g, %s", m.Provider, s.Min, s.Max, strings.ReplaceAll(s.Direction, "_", " "))
			if g, ok := s.grade(v); ok {
				r.Grade = &g
				return r
			}
			r.Warning = fmt.Sprintf("score %s is outside the configured %s scale", providerValue, m.Provider)
			if commonValue == "" {
				return r
			}
		}
	}
	if commonValue != "" {
		r.RawScore = commonValue
		r.Scale = m.Provider + " rating " + m.letters()
		g, ok := m.CommonValue[commonValue]
		switch {
		case !ok:
			r.Warning = fmt.Sprintf("rating %q has no grade in the %s mapping", commonValue, m.Provider)
		case g != nil:
			v := *g
			r.Grade = &v
		}
	}
	return r
}

// letters describes the letter scale ("A-E").
func (m *Mapping) letters() string {
	keys := make([]string, 0, len(m.CommonValue))
	for k := range m.CommonValue {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) == 0 {
		return ""
	}
	return keys[0] + "-" + keys[len(keys)-1]
}
