// Command compose-check validates a Compose file the way Docker Compose v2 loads it,
// without a Docker engine.
//
//	compose-check [-q] [path/to/docker-compose.yml]
//
// Without a path it uses the docker-compose.yml of the nearest directory, from the
// current one upwards, that has one.
//
// The file is loaded with github.com/compose-spec/compose-go/v2, the loader Docker
// Compose v2 uses, with schema validation, interpolation, normalization and the
// consistency checks on: unknown keys, misspelt values such as a depends_on
// condition, references to undefined services, networks, volumes, configs or
// secrets, and dependency cycles all fail. On top of that it applies this
// project's rules:
//
//   - no top-level "name:" key (Debian's docker-compose 1.29 rejects it);
//   - a depends_on "service_healthy" target must define a healthcheck;
//   - published ports bind to 127.0.0.1 only.
//
// It prints "<file>: valid (N services)" and exits 0, or prints each problem to
// stderr and exits 1 (2 for a usage error).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/sirupsen/logrus"
	"go.yaml.in/yaml/v4"
)

const defaultFile = "docker-compose.yml"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("compose-check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quiet := fs.Bool("q", false, "print nothing on success")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: compose-check [-q] [path/to/docker-compose.yml]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return 2
	}

	var path string
	if fs.NArg() == 1 {
		path = fs.Arg(0)
	} else {
		p, err := findDefault()
		if err != nil {
			fmt.Fprintf(stderr, "compose-check: %v\n", err)
			return 2
		}
		path = p
	}

	// compose-go reports some problems (obsolete keys, unset variables) only as
	// logrus warnings: route them to stderr with a recognisable prefix.
	logrus.SetOutput(stderr)
	logrus.SetFormatter(&logrus.TextFormatter{DisableTimestamp: true})

	n, problems := check(context.Background(), path)
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintf(stderr, "%s: %s\n", path, p)
		}
		fmt.Fprintf(stderr, "%s: INVALID (%d problem(s))\n", path, len(problems))
		return 1
	}
	if !*quiet {
		fmt.Fprintf(stdout, "%s: valid (%d services)\n", path, n)
	}
	return 0
}

// findDefault walks up from the working directory to the first docker-compose.yml.
func findDefault() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		candidate := filepath.Join(dir, defaultFile)
		if _, err := os.Stat(candidate); err == nil {
			if rel, err := filepath.Rel(wd, candidate); err == nil {
				return rel, nil
			}
			return candidate, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no %s in %s or any parent directory; pass a path", defaultFile, wd)
		}
		dir = parent
	}
}

// check loads the file and returns the number of services and the problems found.
func check(ctx context.Context, path string) (int, []string) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, []string{err.Error()}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return 0, []string{err.Error()}
	}

	var problems []string

	// Top-level keys, read before compose-go, which happily accepts "name:".
	var top map[string]any
	if err := yaml.Unmarshal(raw, &top); err != nil {
		return 0, []string{fmt.Sprintf("not valid YAML: %v", err)}
	}
	if top == nil {
		return 0, []string{"empty file"}
	}
	if _, ok := top["name"]; ok {
		problems = append(problems, `top-level "name:" key: Debian's docker-compose 1.29 cannot parse it; leave the project name to the directory or -p/COMPOSE_PROJECT_NAME`)
	}

	opts, err := cli.NewProjectOptions(
		[]string{abs},
		cli.WithWorkingDirectory(filepath.Dir(abs)),
		// A fixed name: without "name:" Compose derives it from the directory, and a
		// checkout directory whose name is not a valid project name must not matter here.
		cli.WithName("compose-check"),
		cli.WithOsEnv,
		cli.WithDotEnv,
		cli.WithInterpolation(true),
		cli.WithNormalization(true),
		cli.WithConsistency(true),
		cli.WithResolvedPaths(true),
		// Check services behind every profile, not only the default ones.
		cli.WithProfiles([]string{"*"}),
	)
	if err != nil {
		return 0, append(problems, err.Error())
	}
	project, err := opts.LoadProject(ctx)
	if err != nil {
		return 0, append(problems, unwrapAll(err)...)
	}

	problems = append(problems, projectRules(project)...)
	return len(project.Services) + len(project.DisabledServices), problems
}

// projectRules applies this project's own rules to a loaded, normalized project.
func projectRules(project *types.Project) []string {
	var problems []string
	names := make([]string, 0, len(project.Services))
	for name := range project.Services {
		names = append(names, name)
	}
	sort.Strings(names)

	for _, name := range names {
		svc := project.Services[name]

		deps := make([]string, 0, len(svc.DependsOn))
		for dep := range svc.DependsOn {
			deps = append(deps, dep)
		}
		sort.Strings(deps)
		for _, dep := range deps {
			if svc.DependsOn[dep].Condition != types.ServiceConditionHealthy {
				continue
			}
			target, ok := project.Services[dep]
			if !ok {
				continue // the consistency check has already reported it
			}
			if target.HealthCheck == nil || target.HealthCheck.Disable || len(target.HealthCheck.Test) == 0 {
				problems = append(problems, fmt.Sprintf(
					"service %q depends on %q with condition service_healthy, but %q has no healthcheck",
					name, dep, dep))
			}
		}

		for _, p := range svc.Ports {
			if p.Published == "" {
				continue // container port only, nothing published
			}
			if p.HostIP != "127.0.0.1" {
				host := p.HostIP
				if host == "" {
					host = "all interfaces"
				}
				problems = append(problems, fmt.Sprintf(
					"service %q publishes port %s on %s; publish on 127.0.0.1 only (\"127.0.0.1:%s:%d\")",
					name, p.Published, host, p.Published, p.Target))
			}
		}
	}
	return problems
}

// unwrapAll flattens errors.Join trees so that each problem gets its own line.
func unwrapAll(err error) []string {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		var out []string
		for _, e := range joined.Unwrap() {
			out = append(out, unwrapAll(e)...)
		}
		if len(out) > 0 {
			return out
		}
	}
	msg := err.Error()
	if strings.HasSuffix(msg, " false schema") {
		// jsonschema's wording for a key that additionalProperties: false forbids
		msg += " (unknown key: not part of the Compose specification)"
	}
	return []string{msg}
}
