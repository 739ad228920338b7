// Command yaml-check reads YAML streams the way kubectl does and prints the JSON each document becomes:
// k8s.io/apimachinery's YAMLOrJSONDecoder (the decoder kubectl's resource builder uses, 4096-byte
// sniffing buffer) splits the stream, and sigs.k8s.io/yaml converts each document (go-yaml v2, YAML 1.1).
//
// Input: JSON Lines on stdin, one stream per line:
//
//	{"id": "...", "text": "<a YAML or JSON stream>"}
//
// Output: one JSON line per input line, in order:
//
//	{"id": "...", "docs": [{"json": <the document as JSON>} | {"error": "..."}]}
//
// Decoding stops at the first error, as kubectl does. A document that decodes to nothing is reported as
// {"json": null}; kubectl skips those.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
)

type request struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

type doc struct {
	JSON  json.RawMessage `json:"json,omitempty"`
	Error string          `json:"error,omitempty"`
}

type response struct {
	ID   string `json:"id"`
	Docs []doc  `json:"docs"`
}

func decodeStream(text string) []doc {
	docs := []doc{}
	d := k8syaml.NewYAMLOrJSONDecoder(strings.NewReader(text), 4096)
	for {
		var raw json.RawMessage
		err := d.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			return append(docs, doc{Error: err.Error()})
		}
		if len(raw) == 0 {
			raw = json.RawMessage("null")
		}
		docs = append(docs, doc{JSON: raw})
	}
}

func main() {
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for {
		line, err := in.ReadBytes('\n')
		if len(strings.TrimSpace(string(line))) > 0 {
			var req request
			if jerr := json.Unmarshal(line, &req); jerr != nil {
				fmt.Fprintf(os.Stderr, "yaml-check: invalid request line: %v\n", jerr)
				os.Exit(2)
			}
			if eerr := enc.Encode(response{ID: req.ID, Docs: decodeStream(req.Text)}); eerr != nil {
				fmt.Fprintf(os.Stderr, "yaml-check: %v\n", eerr)
				os.Exit(2)
			}
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "yaml-check: %v\n", err)
			os.Exit(2)
		}
	}
}
