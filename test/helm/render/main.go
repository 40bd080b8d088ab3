// Renders a Helm chart the way Helm's engine (helm.sh/helm/v3/pkg/engine) does, for the chart's
// tests where no helm binary exists: Go's text/template with Sprig's functions minus the ones Helm
// removes (env, expandenv), Helm's own functions (include, tpl, required, fail, toYaml, fromYaml,
// toJson, fromJson, lookup → empty), the .Values/.Release/.Chart/.Capabilities/.Template objects,
// `_` partials parsed with the rest but not rendered, missingkey=zero and "<no value>" erased.
//
// Usage: render <chart dir> [overrides.json] — values are values.yaml deep-merged with the
// overrides (a null override deletes the key, as with helm --set k=null). Prints a JSON object
// {"<chart>/templates/<file>": "<rendered text>"}; files that render to whitespace are left out,
// as Helm leaves them out of the release. A template error exits 1 with Helm's message on stderr.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig" // Debian GOPATH layout of sprig/v3
	yaml "gopkg.in/yaml.v2"
)

// Helm's include/tpl recursion limit.
const recursionMaxNums = 1000

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

// jsonCompatible turns yaml.v2's map[interface{}]interface{} into map[string]interface{}.
func jsonCompatible(v interface{}) interface{} {
	switch x := v.(type) {
	case map[interface{}]interface{}:
		m := make(map[string]interface{}, len(x))
		for k, val := range x {
			m[fmt.Sprint(k)] = jsonCompatible(val)
		}
		return m
	case []interface{}:
		for i := range x {
			x[i] = jsonCompatible(x[i])
		}
		return x
	default:
		return v
	}
}

// yamlToJSONValue parses YAML the way sigs.k8s.io/yaml does (through JSON: numbers become float64).
func yamlToJSONValue(text []byte, out interface{}) error {
	var raw interface{}
	if err := yaml.Unmarshal(text, &raw); err != nil {
		return err
	}
	j, err := json.Marshal(jsonCompatible(raw))
	if err != nil {
		return err
	}
	return json.Unmarshal(j, out)
}

// toYAML is Helm's toYaml: sigs.k8s.io/yaml.Marshal (JSON first, so keys sort), no trailing newline.
func toYAML(v interface{}) string {
	j, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	var generic interface{}
	if err := yaml.Unmarshal(j, &generic); err != nil {
		return ""
	}
	out, err := yaml.Marshal(generic)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(out), "\n")
}

func mergeValues(dst, src map[string]interface{}) {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		sm, sok := v.(map[string]interface{})
		dm, dok := dst[k].(map[string]interface{})
		if sok && dok {
			mergeValues(dm, sm)
		} else {
			dst[k] = v
		}
	}
}

// apiVersions is .Capabilities.APIVersions: Has answers for the built-in groups a 1.35 cluster serves.
type apiVersions []string

func (a apiVersions) Has(v string) bool {
	for _, x := range a {
		if x == v {
			return true
		}
	}
	return false
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: render <chart dir> [overrides.json]")
	}
	chartDir := os.Args[1]

	chartText, err := os.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		fail("%v", err)
	}
	var meta map[string]interface{}
	if err := yamlToJSONValue(chartText, &meta); err != nil {
		fail("Chart.yaml: %v", err)
	}
	str := func(k string) string { s, _ := meta[k].(string); return s }
	chartName := str("name")
	chart := map[string]interface{}{
		"Name": chartName, "Version": str("version"), "AppVersion": str("appVersion"),
		"Description": str("description"), "Type": str("type"), "KubeVersion": str("kubeVersion"),
	}

	values := map[string]interface{}{}
	if text, err := os.ReadFile(filepath.Join(chartDir, "values.yaml")); err == nil {
		if err := yamlToJSONValue(text, &values); err != nil {
			fail("values.yaml: %v", err)
		}
	}
	if len(os.Args) > 2 {
		text, err := os.ReadFile(os.Args[2])
		if err != nil {
			fail("%v", err)
		}
		var overrides map[string]interface{}
		if err := json.Unmarshal(text, &overrides); err != nil {
			fail("%s: %v", os.Args[2], err)
		}
		mergeValues(values, overrides)
	}

	top := map[string]interface{}{
		"Values": values,
		"Chart":  chart,
		"Release": map[string]interface{}{
			"Name": "demo", "Namespace": "skillet", "Service": "Helm",
			"IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
		"Capabilities": map[string]interface{}{
			"KubeVersion": map[string]interface{}{"Version": "v1.35.0", "Major": "1", "Minor": "35", "GitVersion": "v1.35.0"},
			"APIVersions": apiVersions{"v1", "apps/v1", "batch/v1", "autoscaling/v2", "policy/v1", "networking.k8s.io/v1", "rbac.authorization.k8s.io/v1"},
		},
		"Files": map[string]interface{}{},
	}

	// Templates, named "<chart>/templates/<file>" as Helm names them.
	basePath := path.Join(chartName, "templates")
	entries, err := os.ReadDir(filepath.Join(chartDir, "templates"))
	if err != nil {
		fail("%v", err)
	}
	sources := map[string]string{}
	var names []string
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml" && ext != ".tpl" && ext != ".txt") {
			continue
		}
		text, err := os.ReadFile(filepath.Join(chartDir, "templates", e.Name()))
		if err != nil {
			fail("%v", err)
		}
		name := path.Join(basePath, e.Name())
		sources[name] = string(text)
		names = append(names, name)
	}
	sort.Strings(names)

	t := template.New("gotpl").Option("missingkey=zero")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	includedNames := map[string]int{}
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var buf strings.Builder
		if includedNames[name] > recursionMaxNums {
			return "", fmt.Errorf("rendering template has a nested reference name: %s", name)
		}
		includedNames[name]++
		err := t.ExecuteTemplate(&buf, name, data)
		includedNames[name]--
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, vals interface{}) (string, error) {
		clone, err := t.Clone()
		if err != nil {
			return "", err
		}
		parsed, err := clone.New("tpl").Parse(text)
		if err != nil {
			return "", fmt.Errorf("cannot parse template %q: %w", text, err)
		}
		var buf strings.Builder
		if err := parsed.Execute(&buf, vals); err != nil {
			return "", fmt.Errorf("error during tpl function execution for %q: %w", text, err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	funcs["required"] = func(warn string, val interface{}) (interface{}, error) {
		if val == nil {
			return val, fmt.Errorf("%s", warn)
		} else if s, ok := val.(string); ok && s == "" {
			return val, fmt.Errorf("%s", warn)
		}
		return val, nil
	}
	funcs["fail"] = func(msg string) (string, error) { return "", fmt.Errorf("%s", msg) }
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := yamlToJSONValue([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	funcs["toJson"] = func(v interface{}) string {
		out, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		return string(out)
	}
	funcs["fromJson"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	// helm template (no cluster): lookup finds nothing.
	funcs["lookup"] = func(string, string, string, string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	t.Funcs(funcs)

	for _, name := range names {
		if _, err := t.New(name).Parse(sources[name]); err != nil {
			fail("parse error: %v", err)
		}
	}

	rendered := map[string]string{}
	for _, name := range names {
		if strings.HasPrefix(path.Base(name), "_") {
			continue
		}
		vals := map[string]interface{}{}
		for k, v := range top {
			vals[k] = v
		}
		vals["Template"] = map[string]interface{}{"Name": name, "BasePath": basePath}
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, name, vals); err != nil {
			fail("render error in %q: %v", name, err)
		}
		out := strings.ReplaceAll(buf.String(), "<no value>", "")
		if strings.TrimSpace(out) == "" {
			continue
		}
		rendered[name] = out
	}
	out, _ := json.MarshalIndent(rendered, "", "  ")
	os.Stdout.Write(out)
	os.Stdout.Write([]byte("\n"))
}
