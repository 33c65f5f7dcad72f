//! Effective access as a graph: principal → groups → role → targets, rendered as Graphviz DOT, a Mermaid flowchart
//! or (for the HTML report) inline SVG laid out in columns.
//!
//! A node is one object (by id) or one role held by one holder at one scope; an edge is a membership, the holding
//! of a role, or the role reaching a target (dashed when inherited from a scope above it). Labels come from the
//! tenant, so every renderer escapes them for its own syntax and shows control characters as escapes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::analyze::access::Access;
use crate::model::{GrantState, Relation, text};

/// What a node stands for; decides its shape and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NodeKind {
    Principal,
    Group,
    Role,
    Target,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub label: String,
    pub kind: NodeKind,
    /// Its column from the left: 0 for the principal, then one per group level, then roles, then targets.
    pub depth: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EdgeKind {
    Member,
    Owner,
    Holds,
    Reaches,
    Inherited,
}

impl EdgeKind {
    fn label(self) -> &'static str {
        match self {
            EdgeKind::Member => "member",
            EdgeKind::Owner => "owner",
            EdgeKind::Holds | EdgeKind::Reaches => "",
            EdgeKind::Inherited => "inherited",
        }
    }
}

/// Nodes (in order of first appearance) and edges between them, by index.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<(usize, usize, EdgeKind)>,
    index: BTreeMap<String, usize>,
}

impl Graph {
    /// The graph of `access` (from `access --principal` or `--resource`).
    pub fn of(access: &[Access]) -> Graph {
        let mut g = Graph::default();
        for a in access {
            let mut holder = g.node(&a.principal_id, &a.principal, NodeKind::Principal, 0);
            for (i, (id, name)) in a.via_ids.iter().zip(&a.via).enumerate() {
                let group = g.node(id, name, NodeKind::Group, i + 1);
                g.edge(holder, group, EdgeKind::Member);
                holder = group;
            }
            let depth = a.via.len() + 1;
            match a.relation {
                Relation::Member | Relation::Owner => {
                    let target = g.node(&a.target_id, &a.target, NodeKind::Target, depth);
                    let kind = if a.relation == Relation::Member { EdgeKind::Member } else { EdgeKind::Owner };
                    g.edge(holder, target, kind);
                }
                _ => {
                    let held_at = a.inherited_from.as_deref().unwrap_or(&a.target_id);
                    let holder_id = a.via_ids.last().unwrap_or(&a.principal_id);
                    let eligible = if a.state == GrantState::Eligible { " [eligible]" } else { "" };
                    let role = g.node(
                        &format!("{holder_id}|{}|{}|{held_at}|{}", a.relation, a.role_id, a.state),
                        &format!("{}{eligible}", a.role),
                        NodeKind::Role,
                        depth,
                    );
                    g.edge(holder, role, EdgeKind::Holds);
                    let target = g.node(&a.target_id, &a.target, NodeKind::Target, depth + 1);
                    let kind = if a.inherited_from.is_some() { EdgeKind::Inherited } else { EdgeKind::Reaches };
                    g.edge(role, target, kind);
                }
            }
        }
        g.edges.sort_unstable();
        g.edges.dedup();
        g
    }

    fn node(&mut self, key: &str, label: &str, kind: NodeKind, depth: usize) -> usize {
        if let Some(&i) = self.index.get(key) {
            // A node reached along paths of different lengths sits in the column of its longest one.
            self.nodes[i].depth = self.nodes[i].depth.max(depth);
            return i;
        }
        self.nodes.push(Node { label: text::cell(label).into_owned(), kind, depth });
        self.index.insert(key.to_owned(), self.nodes.len() - 1);
        self.nodes.len() - 1
    }

    fn edge(&mut self, from: usize, to: usize, kind: EdgeKind) {
        self.edges.push((from, to, kind));
    }

    /// Graphviz DOT (`dot -Tsvg`).
    pub fn dot(&self) -> String {
        let quote = |s: &str| {
            let mut q = String::with_capacity(s.len() + 2);
            q.push('"');
            for c in s.chars() {
                match c {
                    '"' | '\\' => {
                        q.push('\\');
                        q.push(c);
                    }
                    _ => q.push(c),
                }
            }
            q.push('"');
            q
        };
        let mut out = String::from("digraph access {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n");
        for (i, n) in self.nodes.iter().enumerate() {
            let style = match n.kind {
                NodeKind::Principal => ", style=\"bold\"",
                NodeKind::Group => ", style=\"rounded\"",
                NodeKind::Role => ", shape=ellipse",
                NodeKind::Target => ", style=\"filled\", fillcolor=\"#eeeeee\"",
            };
            let _ = writeln!(out, "  n{i} [label={}{style}];", quote(&n.label));
        }
        for &(a, b, kind) in &self.edges {
            let attrs = match kind {
                EdgeKind::Inherited => " [label=\"inherited\", style=dashed]".to_owned(),
                EdgeKind::Holds | EdgeKind::Reaches => String::new(),
                k => format!(" [label=\"{}\"]", k.label()),
            };
            let _ = writeln!(out, "  n{a} -> n{b}{attrs};");
        }
        out.push_str("}\n");
        out
    }

    /// A Mermaid flowchart (a ```` ```mermaid ```` block on GitHub).
    pub fn mermaid(&self) -> String {
        // Inside a quoted label Mermaid reads entity codes; these characters would end the label or become markup.
        let label = |s: &str| {
            let mut q = String::with_capacity(s.len());
            for c in s.chars() {
                match c {
                    '"' => q.push_str("#quot;"),
                    '<' => q.push_str("#lt;"),
                    '>' => q.push_str("#gt;"),
                    '#' => q.push_str("#35;"),
                    '&' => q.push_str("#amp;"),
                    '`' => q.push_str("#96;"),
                    _ => q.push(c),
                }
            }
            q
        };
        let mut out = String::from("flowchart LR\n");
        for (i, n) in self.nodes.iter().enumerate() {
            let l = label(&n.label);
            let _ = match n.kind {
                NodeKind::Principal => writeln!(out, "  n{i}[[\"{l}\"]]"),
                NodeKind::Group => writeln!(out, "  n{i}(\"{l}\")"),
                NodeKind::Role => writeln!(out, "  n{i}([\"{l}\"])"),
                NodeKind::Target => writeln!(out, "  n{i}[\"{l}\"]"),
            };
        }
        for &(a, b, kind) in &self.edges {
            let _ = match kind {
                EdgeKind::Inherited => writeln!(out, "  n{a} -.->|inherited| n{b}"),
                EdgeKind::Holds | EdgeKind::Reaches => writeln!(out, "  n{a} --> n{b}"),
                k => writeln!(out, "  n{a} -->|{}| n{b}", k.label()),
            };
        }
        out
    }

    /// Inline SVG: one column per depth, nodes stacked in order of appearance, edges as curves. `max_nodes` caps
    /// what is drawn (a tenant-wide graph is no picture); the caller says what was left out.
    pub fn svg(&self, max_nodes: usize) -> String {
        const W: f64 = 190.0;
        const H: f64 = 30.0;
        const GAP_X: f64 = 70.0;
        const GAP_Y: f64 = 12.0;
        let shown: Vec<usize> = (0..self.nodes.len().min(max_nodes)).collect();
        let mut rows: BTreeMap<usize, usize> = BTreeMap::new();
        let mut at = vec![(0.0, 0.0); self.nodes.len()];
        for &i in &shown {
            let d = self.nodes[i].depth;
            let row = rows.entry(d).or_default();
            at[i] = (10.0 + d as f64 * (W + GAP_X), 10.0 + *row as f64 * (H + GAP_Y));
            *row += 1;
        }
        let width = 20.0 + (rows.keys().max().copied().unwrap_or(0) + 1) as f64 * (W + GAP_X) - GAP_X;
        let height = 20.0 + rows.values().max().copied().unwrap_or(0) as f64 * (H + GAP_Y);
        let mut out = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"graph\" width=\"{width:.0}\" height=\"{height:.0}\" \
             viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\">\n"
        );
        for &(a, b, kind) in &self.edges {
            if a >= shown.len() || b >= shown.len() {
                continue;
            }
            let ((x1, y1), (x2, y2)) = ((at[a].0 + W, at[a].1 + H / 2.0), (at[b].0, at[b].1 + H / 2.0));
            let mid = (x1 + x2) / 2.0;
            let dash = if kind == EdgeKind::Inherited { " stroke-dasharray=\"5 4\"" } else { "" };
            let _ = writeln!(
                out,
                "<path class=\"edge {}\" d=\"M{x1:.0},{y1:.0} C{mid:.0},{y1:.0} {mid:.0},{y2:.0} {x2:.0},{y2:.0}\" \
                 fill=\"none\" stroke=\"#888\"{dash}/>",
                kind.label()
            );
        }
        for &i in &shown {
            let n = &self.nodes[i];
            let (x, y) = at[i];
            let (class, radius) = match n.kind {
                NodeKind::Principal => ("principal", 2),
                NodeKind::Group => ("group", 8),
                NodeKind::Role => ("role", 15),
                NodeKind::Target => ("target", 0),
            };
            let shown_label: String = n.label.chars().take(28).collect();
            let cut = if shown_label.len() < n.label.len() { "…" } else { "" };
            let _ = writeln!(
                out,
                "<g class=\"node {class}\"><title>{}</title><rect x=\"{x:.0}\" y=\"{y:.0}\" width=\"{W}\" height=\"{H}\" \
                 rx=\"{radius}\"/><text x=\"{:.0}\" y=\"{:.0}\">{}{cut}</text></g>",
                super::html::escape(&n.label),
                x + 8.0,
                y + H / 2.0 + 4.0,
                super::html::escape(&shown_label),
            );
        }
        out.push_str("</svg>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(via: &[(&str, &str)], relation: Relation, role: &str, target: &str, inherited: Option<&str>) -> Access {
        Access {
            principal_id: "p".into(),
            principal: "Ivan".into(),
            principal_kind: "user".into(),
            principal_detail: String::new(),
            relation,
            role_id: role.to_lowercase(),
            role: role.into(),
            target_id: target.into(),
            target: target.into(),
            target_path: String::new(),
            scope: String::new(),
            state: GrantState::Active,
            end_at: None,
            via: via.iter().map(|v| v.1.to_owned()).collect(),
            via_ids: via.iter().map(|v| v.0.to_owned()).collect(),
            inherited_from: inherited.map(str::to_owned),
            privileged: false,
            path: String::new(),
        }
    }

    #[test]
    fn a_chain_of_groups_leads_to_one_role_node_that_reaches_every_scope() {
        let via = [("g1", "On-Call"), ("g2", "Core")];
        let list = vec![
            access(&via, Relation::AzureRole, "Contributor", "/s", None),
            access(&via, Relation::AzureRole, "Contributor", "/s/rg", Some("/s")),
            access(&via[..1], Relation::Member, "", "g2", None),
        ];
        let g = Graph::of(&list);
        let labels: Vec<&str> = g.nodes.iter().map(|n| n.label.as_str()).collect();
        assert_eq!(labels, ["Ivan", "On-Call", "Core", "Contributor", "/s", "/s/rg"]);
        assert_eq!(g.nodes[3].kind, NodeKind::Role);
        assert_eq!(g.nodes[4].depth, 4);
        assert!(g.edges.contains(&(3, 5, EdgeKind::Inherited)));
        // The membership of Core is drawn once although three rows pass through it.
        assert_eq!(g.edges.iter().filter(|e| e.0 == 1 && e.1 == 2).count(), 1);
    }

    #[test]
    fn labels_cannot_break_out_of_their_syntax() {
        let mut a = access(&[], Relation::Member, "", "t", None);
        a.principal = "Eve\" ] ; n9 -> n0 [label=\"x\\".into();
        a.target = "<b>\"]\n  click n0 \"http://x\"".into();
        let g = Graph::of(&[a]);
        let dot = g.dot();
        assert!(dot.contains(r#"label="Eve\" ] ; n9 -> n0 [label=\"x\\""#), "{dot}");
        assert_eq!(dot.lines().filter(|l| l.split_whitespace().nth(1) == Some("->")).count(), 1, "{dot}");
        let mermaid = g.mermaid();
        assert!(!mermaid.contains("<b>") && !mermaid.contains("click n0 \""), "{mermaid}");
        assert!(mermaid.contains("#lt;b#gt;#quot;]\\n  click"), "{mermaid}");
        let svg = g.svg(10);
        assert!(svg.contains("&lt;b&gt;") && !svg.contains("<b>"), "{svg}");
    }
}
