use super::*;

#[test]
fn builtin_rules_load() {
    assert!(Rules::builtin().rules().len() > 30);
}
