// Command kfstor-testcp is the test control plane for kfstor's live tests.
//
// It is one static multi-call binary with two personalities, each run as its
// own process so that etcd and kube-apiserver never share flag, feature-gate,
// klog or signal-handler state:
//
//	kfstor-testcp etcd [etcd flags...]
//	kfstor-testcp kube-apiserver [kube-apiserver flags...]
//
// The personality may also be chosen by the name the binary is invoked as
// (a symlink called "etcd" or "kube-apiserver"), so a directory of symlinks
// can stand in for envtest's KUBEBUILDER_ASSETS.
//
// Build it with build.sh, which injects the Kubernetes version so /version
// reports the real release instead of v0.0.0-master.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"go.etcd.io/etcd/server/v3/etcdmain"
	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"

	// The same side-effect imports as upstream cmd/kube-apiserver/apiserver.go:
	// JSON log format, client-go and version metrics, and an embedded tz
	// database so the static binary does not depend on the host's zoneinfo.
	_ "time/tzdata"

	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
)

const usage = `usage: kfstor-testcp <personality> [flags...]

personalities:
  etcd             run the etcd server (etcd's own command line)
  kube-apiserver   run kube-apiserver (upstream's own command line)
`

func main() {
	personality, args := splitPersonality(os.Args)
	switch personality {
	case "etcd":
		// etcdmain.Main expects a full argv including the program name.
		etcdmain.Main(append([]string{"etcd"}, args...))
	case "kube-apiserver":
		cmd := app.NewAPIServerCommand()
		// cobra would otherwise read os.Args[1:], which still holds the
		// personality word when invoked as "kfstor-testcp kube-apiserver".
		cmd.SetArgs(args)
		os.Exit(cli.Run(cmd))
	case "", "-h", "--help", "help":
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "kfstor-testcp: unknown personality %q\n\n%s", personality, usage)
		os.Exit(2)
	}
}

// splitPersonality returns the personality and the remaining arguments. A
// binary invoked through a symlink named after a personality uses that name;
// otherwise the first argument selects it.
func splitPersonality(argv []string) (string, []string) {
	switch base := filepath.Base(argv[0]); base {
	case "etcd", "kube-apiserver":
		return base, argv[1:]
	}
	if len(argv) < 2 {
		return "", nil
	}
	return argv[1], argv[2:]
}
