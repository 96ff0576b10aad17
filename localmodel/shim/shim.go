// Package shim is the hook-tool side of the localjuju binary: invoked through a symlink named after a hook
// tool, it forwards its argv (and stdin for --file -) to the controller named in JUJU_AGENT_SOCKET_ADDRESS
// for the hook context in JUJU_CONTEXT_ID, prints the reply and exits with its code, as Juju's jujuc does.
package shim

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/etcd-charm/etcd/localmodel/api"
	"github.com/etcd-charm/etcd/localmodel/client"
)

// Main runs tool with args and returns the process exit code.
func Main(tool string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctxID := os.Getenv("JUJU_CONTEXT_ID")
	socket := os.Getenv("JUJU_AGENT_SOCKET_ADDRESS")
	if ctxID == "" || socket == "" {
		fmt.Fprintf(stderr, "ERROR %s: not running in a hook context (JUJU_CONTEXT_ID or JUJU_AGENT_SOCKET_ADDRESS unset)\n", tool)
		return 1
	}
	req := api.ToolRequest{ContextID: ctxID, Tool: tool, Args: args}
	if wantsStdin(args) {
		b, err := io.ReadAll(stdin)
		if err != nil {
			fmt.Fprintf(stderr, "ERROR reading stdin: %v\n", err)
			return 1
		}
		req.Stdin = b
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	reply, err := client.CallTool(ctx, socket, req)
	if err != nil {
		fmt.Fprintf(stderr, "ERROR %v\n", err)
		return 1
	}
	io.WriteString(stdout, reply.Stdout)
	io.WriteString(stderr, reply.Stderr)
	return reply.Code
}

func wantsStdin(args []string) bool {
	for i, a := range args {
		if a == "--file=-" || (a == "--file" && i+1 < len(args) && args[i+1] == "-") {
			return true
		}
	}
	return false
}
