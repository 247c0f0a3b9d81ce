package main

import "github.com/spf13/cobra"

func (m *Main) demoCommand() *cobra.Command     { return &cobra.Command{Use: "demo", Hidden: true} }
func (m *Main) generateCommand() *cobra.Command { return &cobra.Command{Use: "generate", Hidden: true} }
func (m *Main) benchCommand() *cobra.Command    { return &cobra.Command{Use: "bench", Hidden: true} }
