// Command kfstor-testcp is the test control plane for kfstor's live tests.
//
// It is one static multi-call binary with four personalities, each run as its
// own process so that no two components ever share flag, feature-gate, klog or
// signal-handler state (linking them into one binary only shares code):
//
//	kfstor-testcp etcd [etcd flags...]
//	kfstor-testcp kube-apiserver [kube-apiserver flags...]
//	kfstor-testcp kube-controller-manager [kube-controller-manager flags...]
//	kfstor-testcp kube-scheduler [kube-scheduler flags...]
//
// All three Kubernetes components come from the same pinned release, as in a
// real cluster. The personality may also be chosen by the name the binary is
// invoked as (a symlink called "etcd", "kube-apiserver", ...), so a directory
// of symlinks can stand in for envtest's KUBEBUILDER_ASSETS.
//
// Build it with build.sh, which injects the Kubernetes version so /version
// reports the real release instead of v0.0.0-master.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"go.etcd.io/etcd/server/v3/etcdmain"
	"k8s.io/component-base/cli"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"

	// The same side-effect imports as upstream cmd/kube-apiserver/apiserver.go
	// (and the controller-manager's and scheduler's mains): JSON log format,
	// client-go and version metrics, and an embedded tz database so the static
	// binary does not depend on the host's zoneinfo (CronJob time zones too).
	_ "time/tzdata"

	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
)

const usage = `usage: kfstor-testcp <personality> [flags...]

personalities:
  etcd             run the etcd server (etcd's own command line)
  kube-apiserver   run kube-apiserver (upstream's own command line)
  kube-controller-manager
                   run kube-controller-manager (upstream's own command line)
  kube-scheduler   run kube-scheduler (upstream's own command line)
`

func main() {
	personality, args := splitPersonality(os.Args)
	switch personality {
	case "etcd":
		// etcdmain.Main expects a full argv including the program name.
		etcdmain.Main(append([]string{"etcd"}, args...))
	case "kube-apiserver":
		runCobra(apiserver.NewAPIServerCommand(), args)
	case "kube-controller-manager":
		runCobra(controllermanager.NewControllerManagerCommand(), args)
	case "kube-scheduler":
		runCobra(scheduler.NewSchedulerCommand(), args)
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
	case "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler":
		return base, argv[1:]
	}
	if len(argv) < 2 {
		return "", nil
	}
	return argv[1], argv[2:]
}

// runCobra runs one upstream component's command exactly as its own main does.
func runCobra(cmd *cobra.Command, args []string) {
	// cobra would otherwise read os.Args[1:], which still holds the
	// personality word when invoked as "kfstor-testcp kube-apiserver".
	cmd.SetArgs(args)
	os.Exit(cli.Run(cmd))
}
