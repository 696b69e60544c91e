// MoEEngine: kernels, architectures, the routing hook, sampler and generator.
