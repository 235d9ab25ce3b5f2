package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pageNames are the templates a handler can render; each is parsed with the layout.
var pageNames = []string{"login", "error", "portfolio", "clients", "client", "decisions", "decision",
	"policies", "policy", "editor", "screening", "screening_client"}

// pageSet holds one parsed template per page.
type pageSet struct {
	pages map[string]*template.Template
}

// funcs are the few helpers that are not the view's methods: they take values, not the view.
var funcs = template.FuncMap{
	// args passes several values to a sub-template, which reads them with index.
	"args": func(xs ...any) []any { return xs },
	// svg marks a chart made by this package (chart.go escapes every text it writes).
	"svg": func(s chartSVG) template.HTML { return template.HTML(s) },
	"deref": func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	},
}

func parsePages() (*pageSet, error) {
	ps := &pageSet{pages: map[string]*template.Template{}}
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS,
			"templates/layout.html", "templates/parts.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console templates: %w", err)
		}
		ps.pages[name] = t
	}
	return ps, nil
}

func (ps *pageSet) execute(w io.Writer, page string, v *view) error {
	t, ok := ps.pages[page]
	if !ok {
		return fmt.Errorf("no page template %q", page)
	}
	return t.ExecuteTemplate(w, "layout", v)
}

// staticAsset is an embedded file with its content hash.
type staticAsset struct {
	body  []byte
	hash  string
	ctype string
}

var staticAssets = loadStatic()

func loadStatic() map[string]staticAsset {
	out := map[string]staticAsset{}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[path.Base(p)] = staticAsset{body: b, hash: hex.EncodeToString(sum[:6]), ctype: mime.TypeByExtension(path.Ext(p))}
		return nil
	})
	if err != nil {
		panic(err) // the files are embedded at build time
	}
	return out
}

// staticURL is an asset's address with its hash, so a browser never keeps an old one.
func staticURL(name string) string {
	a, ok := staticAssets[name]
	if !ok {
		return consolePath + "/static/" + name
	}
	return consolePath + "/static/" + name + "?v=" + a.hash
}

// static serves the embedded styles and scripts; they hold no data, so they may be cached.
func (c *Console) static(w http.ResponseWriter, r *http.Request) {
	a, ok := staticAssets[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	ctype := a.ctype
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("ETag", `"`+a.hash+`"`)
	http.ServeContent(w, r, "", time.Time{}, strings.NewReader(string(a.body)))
}
