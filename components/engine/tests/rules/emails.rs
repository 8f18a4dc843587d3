//! The welcome-email rules, each as a user would state it.
#[cfg(target_arch = "wasm32")]
use super::test;
use super::*;

#[test]
fn new_accounts_get_one_welcome_email_only_when_the_setting_is_on() {
    let env = Env::new();
    nested_tenant(&env);
    env.save_groups(&["ops"], false, false);
    env.sync();
    assert!(env.mailer.addresses().is_empty(), "setting off: no email");
    assert!(env.emails().is_empty());

    env.save_groups(&["eng"], true, false);
    env.clock.advance(HOUR);
    env.sync();
    // a3, a4 had accounts already; a0-a2 are new.
    assert_eq!(
        env.mailer.addresses(),
        ["a0@contoso.com", "a1@contoso.com", "a2@contoso.com"]
    );
    assert!(env.emails().iter().all(|e| e.status == EmailStatus::Sent));
    assert_eq!(env.last_summary().counts.users_created, 3);

    env.clock.advance(HOUR);
    env.sync();
    assert_eq!(
        env.mailer.addresses().len(),
        3,
        "never twice for one account"
    );
}

#[test]
fn an_email_that_could_not_be_sent_stays_queued_and_goes_out_later() {
    let env = Env::new();
    nested_tenant(&env);
    env.save_groups(&["ops"], true, false);
    *env.mailer.fail.lock().unwrap() = true;
    env.sync();
    assert!(env.emails().iter().all(|e| e.status == EmailStatus::Queued));
    *env.mailer.fail.lock().unwrap() = false;
    env.clock.advance(HOUR);
    env.sync();
    assert_eq!(env.mailer.addresses(), ["a3@contoso.com", "a4@contoso.com"]);
}
