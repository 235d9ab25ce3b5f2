package solvency

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/ledger"
)

// Run: go test -run '^$' -bench . -benchmem ./internal/solvency/

func BenchmarkBODACCNormalise(b *testing.B) {
	var page bodaccPage
	if err := json.Unmarshal(MustReadTestdata(b, "bodacc_open_liquidation.json"), &page); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		ns, _, err := parseBODACCRecords(page.Results, "812345676")
		if err != nil {
			b.Fatal(err)
		}
		if st := foldNotices(ns); !st.insolvency.Open {
			b.Fatal("lost the liquidation")
		}
	}
}

func BenchmarkFoldNotices100(b *testing.B) {
	natures := []string{
		"Jugement d'ouverture d'une procédure de sauvegarde", "Dépôt de l'état des créances",
		"Jugement arrêtant le plan de sauvegarde", "Jugement prononçant la résolution du plan de sauvegarde et la liquidation judiciaire",
		"Jugement de clôture pour insuffisance d'actif",
	}
	start := ledger.DateOf(2000, 1, 1)
	var ns []notice
	for i := 0; i < 100; i++ {
		d := start.AddDays(30 * i)
		ns = append(ns, notice{key: fmt.Sprintf("A%d", i), typeAvis: "annonce", published: d.AddDays(10), judged: d, number: i, nature: natures[i%len(natures)]})
	}
	b.ReportAllocs()
	for b.Loop() {
		foldNotices(ns)
	}
}

func BenchmarkSIRENEParse(b *testing.B) {
	body := MustReadTestdata(b, "sirene_closed.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseSIRENE(body, "443061841"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBureauParse(b *testing.B) {
	body := MustReadTestdata(b, "bureau_D.json")
	m := MustLoadExampleMapping(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseBureauReport(body, m, "EUR"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMerge(b *testing.B) {
	now := time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)
	created := ledger.DateOf(2016, 9, 1)
	in := []Latest{
		{Snapshot: Snapshot{Provider: "bodacc", FetchedAt: now.Add(-time.Hour), CompanyStatus: StatusUnknown}},
		{Snapshot: Snapshot{Provider: "sirene", FetchedAt: now.Add(-2 * time.Hour), CompanyStatus: StatusActive, CreationDate: &created, NAF: "62.01Z"}},
		{Snapshot: Snapshot{Provider: "bureau", FetchedAt: now.Add(-3 * time.Hour), CompanyStatus: StatusActive, Grade: ptr(4), RecommendedLimit: ptr(ledger.Money(60_000_00))}},
	}
	b.ReportAllocs()
	for b.Loop() {
		Merge(in, now, 0)
	}
}

func BenchmarkParseCSV10k(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("Code client;Note;Score;Encours conseillé;Statut;Date\n")
	letters := "ABCDE"
	for i := 0; i < 10_000; i++ {
		fmt.Fprintf(&buf, "C-%05d;%c;%d;%d,%02d;Actif;15/01/2025\n", i, letters[i%5], 1+i%100, 1000+i, i%100)
	}
	data := buf.Bytes()
	o, err := ParseCSVOptions(CSVParams{Map: "client_id=Code client,grade=Note,score=Score,limit=Encours conseillé,status=Statut,date=Date",
		DateFormat: "eu", Decimal: ","}, MustLoadExampleMapping(b))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := ParseCSV(bytes.NewReader(data), o)
		if err != nil || len(res.Rows) != 10_000 {
			b.Fatalf("%d rows, %v, %+v", len(res.Rows), err, res.Errors[:min(3, len(res.Errors))])
		}
	}
}

func BenchmarkBODACCFetchLoopback(b *testing.B) {
	body := MustReadTestdata(b, "bodacc_open_liquidation.json")
	srv := MustServer(b, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, body) })
	p, err := NewBODACC(srv.URL, fastOptions())
	if err != nil {
		b.Fatal(err)
	}
	c := Company{ClientID: "C-1", RegistrationID: "812345676"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Fetch(context.Background(), c); err != nil {
			b.Fatal(err)
		}
	}
}
