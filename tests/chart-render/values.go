package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"
)

// loadYAMLMap reads a YAML file into a map; an empty file is an empty map.
func loadYAMLMap(path string) (map[string]interface{}, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	values := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &values); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if values == nil {
		values = map[string]interface{}{}
	}
	return values, nil
}

// mergeValues merges override into base as Helm does: maps merge key by key, anything else is
// replaced, and a null in the override deletes the key.
func mergeValues(base, override map[string]interface{}) map[string]interface{} {
	for key, value := range override {
		if value == nil {
			delete(base, key)
			continue
		}
		overrideMap, isMap := value.(map[string]interface{})
		baseMap, baseIsMap := base[key].(map[string]interface{})
		if isMap && baseIsMap {
			base[key] = mergeValues(baseMap, overrideMap)
		} else {
			base[key] = value
		}
	}
	return base
}

// mergedValues is values.yaml with every override file merged over it, in order.
func mergedValues(chartDir string, files []string) (map[string]interface{}, error) {
	values, err := loadYAMLMap(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return nil, err
	}
	for _, file := range files {
		override, err := loadYAMLMap(file)
		if err != nil {
			return nil, err
		}
		values = mergeValues(values, override)
	}
	return values, nil
}

func mergedValuesJSON(chartDir string, files []string) (string, error) {
	values, err := mergedValues(chartDir, files)
	if err != nil {
		return "", err
	}
	data, err := json.Marshal(values)
	return string(data) + "\n", err
}
