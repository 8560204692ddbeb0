// Command kwok-stages prints kwok's own default stages (the ones kwokctl
// installs) as one multi-document YAML file, for "kwok --config".
//
// kwok run on its own reads its stages from configuration only; kwokctl, which
// is not used here because it downloads binaries, supplies these defaults from
// kwok's kustomize/stage packages. Importing them from the pinned kwok module
// keeps the simulated nodes and pods exactly as kwok releases them:
//
//   - node-initialize: a new node gets Ready conditions, addresses and capacity;
//   - node-heartbeat-with-lease: nodes keep their lease and conditions fresh;
//   - pod-ready, pod-complete, pod-delete: scheduled pods become Running (jobs'
//     pods Succeeded), deleted pods go away.
package main

import (
	"fmt"
	"strings"

	nodefast "sigs.k8s.io/kwok/kustomize/stage/node/fast"
	nodeheartbeatwithlease "sigs.k8s.io/kwok/kustomize/stage/node/heartbeat-with-lease"
	podfast "sigs.k8s.io/kwok/kustomize/stage/pod/fast"
)

func main() {
	docs := []string{
		nodefast.DefaultNodeInit,
		nodeheartbeatwithlease.DefaultNodeHeartbeatWithLease,
		podfast.DefaultPodReady,
		podfast.DefaultPodComplete,
		podfast.DefaultPodDelete,
	}
	for i, doc := range docs {
		if i > 0 {
			fmt.Println("---")
		}
		fmt.Println(strings.TrimSpace(doc))
	}
}
