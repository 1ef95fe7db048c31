module rapidskf.test/controlplane/kubernetes

go 1.26.0

godebug default=go1.26

