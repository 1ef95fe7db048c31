module rapidskf.test/controlplane/etcd

go 1.26.0
