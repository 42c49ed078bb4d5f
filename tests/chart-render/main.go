// chart-render renders a Helm chart the way `helm template` does, for the subset of Helm the
// kms-plugin chart uses: .Values (values.yaml deep-merged with -f files, null deleting a key),
// .Release, .Chart, .Template, .Files.Get, the sprig functions and Helm's include, required, fail and toYaml.
// There is no helm binary on Debian and the Go module proxy is not reachable, so this is built
// offline in GOPATH mode from Debian's sprig and sigs.k8s.io/yaml. It does not validate
// values.schema.json (the tests do that with JsonSchema.Net) and knows no .Capabilities.
//
// Usage: chart-render -chart DIR [-f values.yaml]... [-name RELEASE] [-namespace NS] [-notes | -values-json]
// Prints every rendered manifest as a YAML document headed by "# Source: <chart>/templates/<file>";
// with -notes, the rendered NOTES.txt instead; with -values-json, the merged values as JSON (what
// Helm checks against values.schema.json). Exit 1 with the template error otherwise.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

type valueFiles []string

func (v *valueFiles) String() string     { return strings.Join(*v, ",") }
func (v *valueFiles) Set(s string) error { *v = append(*v, s); return nil }

func main() {
	chartDir := flag.String("chart", "", "chart directory (holds Chart.yaml)")
	name := flag.String("name", "kms-plugin", "release name")
	namespace := flag.String("namespace", "kube-system", "release namespace")
	notes := flag.Bool("notes", false, "print the rendered NOTES.txt instead of the manifests")
	valuesJSON := flag.Bool("values-json", false, "print the merged values as JSON instead of the manifests")
	var files valueFiles
	flag.Var(&files, "f", "values file merged over the chart's values.yaml (repeatable, later wins)")
	flag.Parse()
	if *chartDir == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: chart-render -chart DIR [-f values.yaml]... [-name RELEASE] [-namespace NS] [-notes | -values-json]")
		os.Exit(2)
	}

	var out string
	var err error
	if *valuesJSON {
		out, err = mergedValuesJSON(*chartDir, files)
	} else {
		out, err = render(*chartDir, files, *name, *namespace, *notes)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chart-render:", err)
		os.Exit(1)
	}
	fmt.Print(out)
}
