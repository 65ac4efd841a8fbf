"""Report runs in pods: compute profiles, the pod request, the pure Pod manifest, how a pod ended, its cgroup memory."""
