//! Shielding for any holder: whether a role (or a group, or a unit) stays inside a
//! shielding group whoever HR appoints, not only with today's holders. A function held
//! in a unit inside a `unit` part of the group, or a role the group names in its
//! `people(...)`, stays inside for every holder; a named person is a stable key and is
//! checked as they are today. Anything else is inside only by accident of who holds it:
//! [`Breach`] names the organogram change that would let an outsider in.

use crate::org_index::OrgIndex;
use crate::{GroupDefinition, Signer, UnitSel};

/// An organogram change that would put someone outside the shielding group in reach of
/// a shielded document, though nobody outside is today.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Breach {
    /// Someone appointed to `function` in `unit`.
    Function {
        /// The function.
        function: String,
        /// The unit (outside the group).
        unit: String,
    },
    /// Someone outside the group given `mandate`.
    Mandate {
        /// The mandate.
        mandate: String,
    },
    /// Someone outside the group placed in `unit`.
    UnitMember {
        /// The unit.
        unit: String,
    },
}

/// Whether every unit below and including `unit` lies in a `unit` part of `group`.
fn unit_inside(group: &GroupDefinition, unit: &str, org: &OrgIndex) -> bool {
    match group {
        GroupDefinition::Unit(g) => org.within(unit, g),
        GroupDefinition::People(_) => false,
        GroupDefinition::Union(parts) => parts.iter().any(|p| unit_inside(p, unit, org)),
    }
}

/// Whether `group` names `signer` in a `people(...)` part (or as a bare term).
fn names(group: &GroupDefinition, signer: &Signer) -> bool {
    match group {
        GroupDefinition::Unit(_) => false,
        GroupDefinition::People(signers) => signers.contains(signer),
        GroupDefinition::Union(parts) => parts.iter().any(|p| names(p, signer)),
    }
}

/// The change that would let a holder of `signer` outside `group`, if any. A role that
/// depends on a document field is checked by the caller, unit by unit.
pub fn role_breach(group: &GroupDefinition, signer: &Signer, org: &OrgIndex) -> Option<Breach> {
    match signer {
        Signer::Person { .. } | Signer::PersonField { .. } => None,
        Signer::Mandate { id } => (!names(group, signer)).then(|| Breach::Mandate {
            mandate: id.clone(),
        }),
        Signer::Function {
            id,
            unit: UnitSel::Fixed(u),
        } => {
            let anywhere = Signer::Function {
                id: id.clone(),
                unit: UnitSel::Any,
            };
            (!(unit_inside(group, u, org) || names(group, signer) || names(group, &anywhere))).then(
                || Breach::Function {
                    function: id.clone(),
                    unit: u.clone(),
                },
            )
        }
        Signer::Function {
            id,
            unit: UnitSel::Any,
        } => {
            if names(group, signer) {
                return None;
            }
            org.units().find_map(|u| {
                let here = Signer::Function {
                    id: id.clone(),
                    unit: UnitSel::Fixed(u.to_string()),
                };
                role_breach(group, &here, org)
            })
        }
        Signer::Function {
            unit: UnitSel::Field(_),
            ..
        } => None,
    }
}

/// The change that would put a member of `inner` outside `group`, if any: every part
/// of `inner` must stay inside for any holder.
pub fn group_breach(
    inner: &GroupDefinition,
    group: &GroupDefinition,
    org: &OrgIndex,
) -> Option<Breach> {
    match inner {
        GroupDefinition::Unit(u) => {
            (!unit_inside(group, u, org)).then(|| Breach::UnitMember { unit: u.clone() })
        }
        GroupDefinition::People(signers) => signers.iter().find_map(|s| role_breach(group, s, org)),
        GroupDefinition::Union(parts) => parts.iter().find_map(|p| group_breach(p, group, org)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{OrgPerson, OrgPosition, OrgUnit, Organogram};

    fn org() -> OrgIndex {
        let unit = |id: &str, parent: Option<&str>| OrgUnit {
            id: id.into(),
            name: id.into(),
            parent: parent.map(str::to_string),
        };
        OrgIndex::new(&Organogram {
            units: vec![
                unit("samenleving", None),
                unit("sociale-zaken", Some("samenleving")),
                unit("inkomen", Some("sociale-zaken")),
                unit("werk", Some("samenleving")),
            ],
            people: vec![OrgPerson {
                id: "youssef".into(),
                name: "Youssef".into(),
                email: String::new(),
                key: None,
                positions: vec![OrgPosition::Function {
                    function: "teamcoach".into(),
                    unit: "inkomen".into(),
                }],
            }],
            ..Default::default()
        })
    }

    fn function(id: &str, unit: UnitSel) -> Signer {
        Signer::Function {
            id: id.into(),
            unit,
        }
    }

    #[test]
    fn a_function_in_a_unit_inside_the_group_stays_inside() {
        let g = GroupDefinition::Unit("sociale-zaken".into());
        let o = org();
        assert_eq!(
            role_breach(
                &g,
                &function("teamcoach", UnitSel::Fixed("inkomen".into())),
                &o
            ),
            None
        );
        assert_eq!(
            role_breach(
                &g,
                &function("teamcoach", UnitSel::Fixed("werk".into())),
                &o
            ),
            Some(Breach::Function {
                function: "teamcoach".into(),
                unit: "werk".into()
            })
        );
    }

    #[test]
    fn a_function_anywhere_is_inside_only_when_the_group_names_it() {
        let o = org();
        let any = function("teamcoach", UnitSel::Any);
        // Today's only teamcoach is inside, but one could be appointed in `samenleving`.
        let g = GroupDefinition::Unit("sociale-zaken".into());
        assert_eq!(
            role_breach(&g, &any, &o),
            Some(Breach::Function {
                function: "teamcoach".into(),
                unit: "samenleving".into()
            })
        );
        let named = GroupDefinition::Union(vec![g, GroupDefinition::People(vec![any.clone()])]);
        assert_eq!(role_breach(&named, &any, &o), None);
    }

    #[test]
    fn mandates_persons_and_groups() {
        let o = org();
        let g = GroupDefinition::Unit("sociale-zaken".into());
        let mayor = Signer::Mandate {
            id: "burgemeester".into(),
        };
        assert!(role_breach(&g, &mayor, &o).is_some());
        let with_mayor = GroupDefinition::Union(vec![
            g.clone(),
            GroupDefinition::People(vec![mayor.clone()]),
        ]);
        assert_eq!(role_breach(&with_mayor, &mayor, &o), None);
        assert_eq!(
            role_breach(
                &g,
                &Signer::Person {
                    id: "youssef".into()
                },
                &o
            ),
            None
        );
        let wider = GroupDefinition::Unit("samenleving".into());
        assert_eq!(
            group_breach(&wider, &g, &o),
            Some(Breach::UnitMember {
                unit: "samenleving".into()
            })
        );
        assert_eq!(
            group_breach(&GroupDefinition::Unit("inkomen".into()), &g, &o),
            None
        );
    }
}
