module github.com/ouroboros-log/ouroboros/go

go 1.19
