// Command kfstor-csi is a small zonal CSI driver for kfstor's live test cluster.
//
// It behaves like a cloud block-storage driver (EBS, PD): every volume lives in
// one zone, is reachable from every node of that zone, must be attached
// (ControllerPublishVolume) before use, supports only single-node access modes,
// and can be expanded. Each zone has a fixed capacity, so provisioning and
// expansion fail for real, with codes.ResourceExhausted, once a zone is full:
// that is what makes external-provisioner's reschedule path reachable, and a
// retried (non-final) resize failure. A volume larger than --max-volume-size
// fails with codes.OutOfRange, which the sidecars treat as final (infeasible).
//
// Only the Identity and Controller services are served: pods on kwok's simulated
// nodes never mount anything, so no kubelet ever calls a Node service. The
// registration kubelet and node-driver-registrar would do (the CSINode object
// and the node's topology label) is done by the test harness, which names the
// topology key this driver reports (TopologyKey).
//
//	kfstor-csi --endpoint=unix:///tmp/csi.sock --zone=zone-a=10Gi --zone=zone-b=2Gi --max-volume-size=8Gi
//
// State lives in memory: a restarted driver forgets its volumes, so the harness
// restarts only the sidecars, never the driver.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
	"k8s.io/apimachinery/pkg/api/resource"
)

const (
	// TopologyKey is the one topology segment of this driver: the zone.
	TopologyKey = "topology.csi.kfstor.test/zone"
	// Parameters external-provisioner adds with --extra-create-metadata.
	metadataPrefix = "csi.storage.k8s.io/"
	defaultSize    = 1 << 30
	vendorVersion  = "0.1.0"
)

type volume struct {
	id       string
	name     string
	zone     string
	size     int64
	attached map[string]bool // node IDs
}

type driver struct {
	csi.UnimplementedIdentityServer
	csi.UnimplementedControllerServer

	name     string
	maxSize  int64 // largest volume, bytes
	mu       sync.Mutex
	capacity map[string]int64 // zone -> total bytes
	volumes  map[string]*volume
}

func (d *driver) used(zone string) int64 {
	var total int64
	for _, v := range d.volumes {
		if v.zone == zone {
			total += v.size
		}
	}
	return total
}

func (d *driver) free(zone string) int64 { return d.capacity[zone] - d.used(zone) }

// --- Identity ---------------------------------------------------------------------------------

func (d *driver) GetPluginInfo(context.Context, *csi.GetPluginInfoRequest) (*csi.GetPluginInfoResponse, error) {
	return &csi.GetPluginInfoResponse{Name: d.name, VendorVersion: vendorVersion}, nil
}

func (d *driver) GetPluginCapabilities(context.Context, *csi.GetPluginCapabilitiesRequest) (*csi.GetPluginCapabilitiesResponse, error) {
	service := func(t csi.PluginCapability_Service_Type) *csi.PluginCapability {
		return &csi.PluginCapability{Type: &csi.PluginCapability_Service_{Service: &csi.PluginCapability_Service{Type: t}}}
	}
	online := &csi.PluginCapability{Type: &csi.PluginCapability_VolumeExpansion_{
		VolumeExpansion: &csi.PluginCapability_VolumeExpansion{Type: csi.PluginCapability_VolumeExpansion_ONLINE},
	}}
	return &csi.GetPluginCapabilitiesResponse{Capabilities: []*csi.PluginCapability{
		service(csi.PluginCapability_Service_CONTROLLER_SERVICE),
		service(csi.PluginCapability_Service_VOLUME_ACCESSIBILITY_CONSTRAINTS),
		online,
	}}, nil
}

func (d *driver) Probe(context.Context, *csi.ProbeRequest) (*csi.ProbeResponse, error) {
	return &csi.ProbeResponse{}, nil
}

// --- Controller -------------------------------------------------------------------------------

func (d *driver) ControllerGetCapabilities(context.Context, *csi.ControllerGetCapabilitiesRequest) (*csi.ControllerGetCapabilitiesResponse, error) {
	var caps []*csi.ControllerServiceCapability
	for _, t := range []csi.ControllerServiceCapability_RPC_Type{
		csi.ControllerServiceCapability_RPC_CREATE_DELETE_VOLUME,
		csi.ControllerServiceCapability_RPC_PUBLISH_UNPUBLISH_VOLUME,
		csi.ControllerServiceCapability_RPC_EXPAND_VOLUME,
		csi.ControllerServiceCapability_RPC_GET_CAPACITY,
	} {
		caps = append(caps, &csi.ControllerServiceCapability{
			Type: &csi.ControllerServiceCapability_Rpc{Rpc: &csi.ControllerServiceCapability_RPC{Type: t}},
		})
	}
	return &csi.ControllerGetCapabilitiesResponse{Capabilities: caps}, nil
}

// checkCapabilities accepts single-node access modes only: a block volume is
// attached to one node at a time.
func checkCapabilities(caps []*csi.VolumeCapability) error {
	if len(caps) == 0 {
		return status.Error(codes.InvalidArgument, "volume capabilities missing")
	}
	for _, c := range caps {
		switch c.GetAccessMode().GetMode() {
		case csi.VolumeCapability_AccessMode_SINGLE_NODE_WRITER,
			csi.VolumeCapability_AccessMode_SINGLE_NODE_READER_ONLY,
			csi.VolumeCapability_AccessMode_SINGLE_NODE_SINGLE_WRITER,
			csi.VolumeCapability_AccessMode_SINGLE_NODE_MULTI_WRITER:
		default:
			return status.Errorf(codes.InvalidArgument, "access mode %s is not supported: volumes attach to one node at a time",
				c.GetAccessMode().GetMode())
		}
	}
	return nil
}

func requestedSize(r *csi.CapacityRange) int64 {
	if r.GetRequiredBytes() > 0 {
		return r.GetRequiredBytes()
	}
	if r.GetLimitBytes() > 0 {
		return r.GetLimitBytes()
	}
	return defaultSize
}

// candidateZones lists the zones CreateVolume may use, most preferred first:
// preferred topologies, then requisite ones. No requirements means any zone.
func (d *driver) candidateZones(req *csi.TopologyRequirement) []string {
	var zones []string
	seen := map[string]bool{}
	for _, list := range [][]*csi.Topology{req.GetPreferred(), req.GetRequisite()} {
		for _, t := range list {
			zone := t.GetSegments()[TopologyKey]
			if zone != "" && !seen[zone] {
				seen[zone] = true
				zones = append(zones, zone)
			}
		}
	}
	if len(zones) == 0 {
		for zone := range d.capacity {
			zones = append(zones, zone)
		}
		sort.Strings(zones)
	}
	return zones
}

func volumeID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return "vol-" + hex.EncodeToString(sum[:8])
}

func (d *driver) csiVolume(v *volume) *csi.Volume {
	return &csi.Volume{
		VolumeId:           v.id,
		CapacityBytes:      v.size,
		AccessibleTopology: []*csi.Topology{{Segments: map[string]string{TopologyKey: v.zone}}},
	}
}

func (d *driver) CreateVolume(_ context.Context, req *csi.CreateVolumeRequest) (*csi.CreateVolumeResponse, error) {
	if req.GetName() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume name missing")
	}
	if err := checkCapabilities(req.GetVolumeCapabilities()); err != nil {
		return nil, err
	}
	for key := range req.GetParameters() {
		if !strings.HasPrefix(key, metadataPrefix) {
			return nil, status.Errorf(codes.InvalidArgument, "unknown parameter %q", key)
		}
	}
	if req.GetVolumeContentSource() != nil {
		return nil, status.Error(codes.InvalidArgument, "volume content sources are not supported")
	}
	size := requestedSize(req.GetCapacityRange())
	if size > d.maxSize {
		return nil, status.Errorf(codes.OutOfRange, "%d bytes requested, volumes hold at most %d bytes", size, d.maxSize)
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	id := volumeID(req.GetName())
	if v, ok := d.volumes[id]; ok {
		// Retried call (the provisioner retries after timeouts): same answer.
		if v.size < size {
			return nil, status.Errorf(codes.AlreadyExists, "volume %s exists with %d bytes, %d requested", req.GetName(), v.size, size)
		}
		return &csi.CreateVolumeResponse{Volume: d.csiVolume(v)}, nil
	}
	zones := d.candidateZones(req.GetAccessibilityRequirements())
	var full []string
	for _, zone := range zones {
		if _, known := d.capacity[zone]; !known {
			continue
		}
		if d.free(zone) >= size {
			v := &volume{id: id, name: req.GetName(), zone: zone, size: size, attached: map[string]bool{}}
			d.volumes[id] = v
			log.Printf("CreateVolume %s: %s, %d bytes in %s", req.GetName(), id, size, zone)
			return &csi.CreateVolumeResponse{Volume: d.csiVolume(v)}, nil
		}
		full = append(full, fmt.Sprintf("%s has %d bytes free", zone, d.free(zone)))
	}
	if len(full) == 0 {
		return nil, status.Errorf(codes.InvalidArgument, "no zone of this driver in the accessibility requirements %v", zones)
	}
	msg := fmt.Sprintf("not enough free capacity for %d bytes: %s", size, strings.Join(full, ", "))
	log.Printf("CreateVolume %s: ResourceExhausted: %s", req.GetName(), msg)
	return nil, status.Error(codes.ResourceExhausted, msg)
}

func (d *driver) DeleteVolume(_ context.Context, req *csi.DeleteVolumeRequest) (*csi.DeleteVolumeResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.volumes[req.GetVolumeId()]
	if !ok {
		return &csi.DeleteVolumeResponse{}, nil // idempotent
	}
	if len(v.attached) > 0 {
		return nil, status.Errorf(codes.FailedPrecondition, "volume %s is still attached", v.id)
	}
	delete(d.volumes, v.id)
	log.Printf("DeleteVolume %s", v.id)
	return &csi.DeleteVolumeResponse{}, nil
}

func (d *driver) ControllerPublishVolume(_ context.Context, req *csi.ControllerPublishVolumeRequest) (*csi.ControllerPublishVolumeResponse, error) {
	if req.GetNodeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "node ID missing")
	}
	if err := checkCapabilities([]*csi.VolumeCapability{req.GetVolumeCapability()}); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.volumes[req.GetVolumeId()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "volume %s not found", req.GetVolumeId())
	}
	for node := range v.attached {
		if node != req.GetNodeId() {
			return nil, status.Errorf(codes.FailedPrecondition, "volume %s is attached to node %s", v.id, node)
		}
	}
	v.attached[req.GetNodeId()] = true
	log.Printf("ControllerPublishVolume %s to %s", v.id, req.GetNodeId())
	return &csi.ControllerPublishVolumeResponse{}, nil
}

func (d *driver) ControllerUnpublishVolume(_ context.Context, req *csi.ControllerUnpublishVolumeRequest) (*csi.ControllerUnpublishVolumeResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if v, ok := d.volumes[req.GetVolumeId()]; ok {
		delete(v.attached, req.GetNodeId())
		log.Printf("ControllerUnpublishVolume %s from %s", v.id, req.GetNodeId())
	}
	return &csi.ControllerUnpublishVolumeResponse{}, nil
}

func (d *driver) ValidateVolumeCapabilities(_ context.Context, req *csi.ValidateVolumeCapabilitiesRequest) (*csi.ValidateVolumeCapabilitiesResponse, error) {
	d.mu.Lock()
	_, ok := d.volumes[req.GetVolumeId()]
	d.mu.Unlock()
	if !ok {
		return nil, status.Errorf(codes.NotFound, "volume %s not found", req.GetVolumeId())
	}
	if err := checkCapabilities(req.GetVolumeCapabilities()); err != nil {
		return &csi.ValidateVolumeCapabilitiesResponse{Message: err.Error()}, nil
	}
	return &csi.ValidateVolumeCapabilitiesResponse{Confirmed: &csi.ValidateVolumeCapabilitiesResponse_Confirmed{
		VolumeCapabilities: req.GetVolumeCapabilities(),
	}}, nil
}

func (d *driver) GetCapacity(_ context.Context, req *csi.GetCapacityRequest) (*csi.GetCapacityResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var zones []string
	if zone := req.GetAccessibleTopology().GetSegments()[TopologyKey]; zone != "" {
		zones = []string{zone}
	} else {
		for zone := range d.capacity {
			zones = append(zones, zone)
		}
	}
	var free, largest int64
	for _, zone := range zones {
		if _, known := d.capacity[zone]; known {
			f := d.free(zone)
			free += f
			largest = max(largest, f)
		}
	}
	return &csi.GetCapacityResponse{AvailableCapacity: free, MaximumVolumeSize: wrapperspb.Int64(min(largest, d.maxSize))}, nil
}

func (d *driver) ControllerExpandVolume(_ context.Context, req *csi.ControllerExpandVolumeRequest) (*csi.ControllerExpandVolumeResponse, error) {
	size := requestedSize(req.GetCapacityRange())
	if size > d.maxSize {
		return nil, status.Errorf(codes.OutOfRange, "%d bytes requested, volumes hold at most %d bytes", size, d.maxSize)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.volumes[req.GetVolumeId()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "volume %s not found", req.GetVolumeId())
	}
	if size > v.size {
		if grow := size - v.size; d.free(v.zone) < grow {
			return nil, status.Errorf(codes.ResourceExhausted, "not enough free capacity in %s to grow %s by %d bytes: %d bytes free",
				v.zone, v.id, grow, d.free(v.zone))
		}
		log.Printf("ControllerExpandVolume %s: %d -> %d bytes", v.id, v.size, size)
		v.size = size
	}
	// Nothing to do on the node: no kubelet would call NodeExpandVolume anyway.
	return &csi.ControllerExpandVolumeResponse{CapacityBytes: v.size, NodeExpansionRequired: false}, nil
}

// --- main -------------------------------------------------------------------------------------

type zoneFlags map[string]int64

func (z zoneFlags) String() string { return fmt.Sprint(map[string]int64(z)) }

func (z zoneFlags) Set(value string) error {
	name, size, ok := strings.Cut(value, "=")
	if !ok || name == "" {
		return errors.New("want ZONE=SIZE, e.g. zone-a=10Gi")
	}
	q, err := resource.ParseQuantity(size)
	if err != nil {
		return fmt.Errorf("zone %s: %w", name, err)
	}
	z[name] = q.Value()
	return nil
}

type quantityFlag struct{ q *resource.Quantity }

func (f *quantityFlag) String() string {
	if f.q == nil {
		return ""
	}
	return f.q.String()
}

func (f *quantityFlag) Set(value string) error {
	q, err := resource.ParseQuantity(value)
	if err != nil {
		return err
	}
	*f.q = q
	return nil
}

func main() {
	zones := zoneFlags{}
	maxSize := resource.MustParse("64Gi")
	endpoint := flag.String("endpoint", "", "unix:///path/to/csi.sock to serve on")
	name := flag.String("drivername", "csi.kfstor.test", "CSI driver name")
	flag.Var(zones, "zone", "ZONE=SIZE: a zone and its capacity (repeatable)")
	flag.Var(&quantityFlag{&maxSize}, "max-volume-size", "largest volume the driver creates or expands to")
	flag.Parse()
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	path, ok := strings.CutPrefix(*endpoint, "unix://")
	if !ok || path == "" || len(zones) == 0 {
		fmt.Fprintln(os.Stderr, "usage: kfstor-csi --endpoint=unix:///path/csi.sock --zone=ZONE=SIZE [--zone=...]")
		os.Exit(2)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		log.Fatalf("removing stale socket: %v", err)
	}
	listener, err := net.Listen("unix", path)
	if err != nil {
		log.Fatalf("listen: %v", err)
	}
	d := &driver{name: *name, maxSize: maxSize.Value(), capacity: zones, volumes: map[string]*volume{}}
	server := grpc.NewServer()
	csi.RegisterIdentityServer(server, d)
	csi.RegisterControllerServer(server, d)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		server.GracefulStop()
	}()
	log.Printf("kfstor-csi %s serving %s on %s, zones %v", vendorVersion, *name, path, zones)
	if err := server.Serve(listener); err != nil {
		log.Fatalf("serve: %v", err)
	}
}
