//! The project index: every top-level definition of every file, by name.

use crate::syntax::ast::*;
use std::collections::BTreeMap;

/// A definition and the file it is in.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct InFile<T> {
    /// Project-relative file name.
    pub file: String,
    /// The definition.
    pub def: T,
}

/// All named definitions of a project. Several entries under one name are duplicates.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Index {
    /// Document kinds.
    pub documents: BTreeMap<String, Vec<InFile<DocumentDef>>>,
    /// Visibility groups.
    pub groups: BTreeMap<String, Vec<InFile<GroupDef>>>,
    /// Creditor agencies.
    pub agencies: BTreeMap<String, Vec<InFile<AgencyDef>>>,
    /// Flows.
    pub flows: BTreeMap<String, Vec<InFile<FlowDef>>>,
    /// Rules.
    pub rules: BTreeMap<String, Vec<InFile<RuleDef>>>,
    /// Substitute declarations, in file order.
    pub substitutes: Vec<InFile<SubstitutesDef>>,
}

impl Index {
    /// Adds every item of one file.
    pub fn add_file(&mut self, file: &str, ast: &SourceAst) {
        for item in &ast.items {
            let f = file.to_string();
            match item {
                Item::Document(d) => push(&mut self.documents, &d.name, f, d),
                Item::Group(d) => push(&mut self.groups, &d.name, f, d),
                Item::Agency(d) => push(&mut self.agencies, &d.name, f, d),
                Item::Flow(d) => push(&mut self.flows, &d.name, f, d),
                Item::Rule(d) => push(&mut self.rules, &d.name, f, d),
                Item::Substitutes(d) => self.substitutes.push(InFile {
                    file: f,
                    def: d.clone(),
                }),
            }
        }
    }

    /// Adds every entry of `other` (a later file) after this index's own.
    pub fn merge(&mut self, other: Index) {
        fn extend<T>(
            a: &mut BTreeMap<String, Vec<InFile<T>>>,
            b: BTreeMap<String, Vec<InFile<T>>>,
        ) {
            for (k, v) in b {
                a.entry(k).or_default().extend(v);
            }
        }
        extend(&mut self.documents, other.documents);
        extend(&mut self.groups, other.groups);
        extend(&mut self.agencies, other.agencies);
        extend(&mut self.flows, other.flows);
        extend(&mut self.rules, other.rules);
        self.substitutes.extend(other.substitutes);
    }

    /// The (first) document kind with this name.
    pub fn document(&self, name: &str) -> Option<&DocumentDef> {
        self.documents
            .get(name)
            .and_then(|v| v.first())
            .map(|d| &d.def)
    }

    /// The (first) group with this name.
    pub fn group(&self, name: &str) -> Option<&InFile<GroupDef>> {
        self.groups.get(name).and_then(|v| v.first())
    }

    /// The (first) flow with this name.
    pub fn flow(&self, name: &str) -> Option<&FlowDef> {
        self.flows.get(name).and_then(|v| v.first()).map(|d| &d.def)
    }
}

fn push<T: Clone>(map: &mut BTreeMap<String, Vec<InFile<T>>>, name: &Name, file: String, def: &T) {
    map.entry(name.text.clone()).or_default().push(InFile {
        file,
        def: def.clone(),
    });
}
