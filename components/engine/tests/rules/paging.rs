//! The page loop every listing of a run goes through (`read_listing_page`
//! in `sync/run.rs`): pages followed one at a time across invocations,
//! paging loops caught, and the full listing of a tenant without delta.
#[cfg(target_arch = "wasm32")]
use super::test;
use super::*;
use engine::ports::{
    DeltaFrom, GroupChange, IdentitySource, Member, Page, PageToken, SourceDomain, SourceError,
    SourceGroup, SourceUser, UserChange,
};
use engine::testing::MemoryTenant;

/// `eng` with five users, listed two to a page.
fn paged_group(env: &Env) {
    env.tenant.domain("contoso.com", true).set_page_size(2);
    env.tenant.put_users(people("a", 5, "contoso.com"));
    env.tenant.put_group("eng", "Engineering");
    env.tenant
        .add_users_to("eng", (0..5).map(|i| format!("a{i:05}")));
    env.save_groups(&["eng"], false, false);
}

/// How a broken Graph pages a group's members.
#[derive(Clone, Copy)]
enum Broken {
    /// Every page links to the same next page.
    SameNextLink,
    /// Every link leads back to the first page.
    SamePageAgain,
}

/// The tenant, with a broken paging of group members.
struct BrokenPaging<'t> {
    tenant: &'t MemoryTenant,
    broken: Broken,
    links: std::cell::Cell<u32>,
    real_next: std::cell::Cell<Option<PageToken>>,
}

impl IdentitySource for BrokenPaging<'_> {
    async fn domains(&self) -> Result<Vec<SourceDomain>, SourceError> {
        self.tenant.domains().await
    }
    async fn group(&self, id: &str) -> Result<Option<SourceGroup>, SourceError> {
        self.tenant.group(id).await
    }
    async fn users(&self, page: Option<&PageToken>) -> Result<Page<SourceUser>, SourceError> {
        self.tenant.users(page).await
    }
    async fn groups(&self, page: Option<&PageToken>) -> Result<Page<SourceGroup>, SourceError> {
        self.tenant.groups(page).await
    }
    async fn members(
        &self,
        group_id: &str,
        transitive: bool,
        page: Option<&PageToken>,
    ) -> Result<Page<Member>, SourceError> {
        let asked = match self.broken {
            // The link we gave stands for the tenant's real next page.
            Broken::SameNextLink => page.and(self.real_next.take()),
            Broken::SamePageAgain => None,
        };
        let mut listed = self
            .tenant
            .members(group_id, transitive, asked.as_ref())
            .await?;
        self.links.set(self.links.get() + 1);
        let link = match self.broken {
            Broken::SameNextLink => "next".to_owned(),
            Broken::SamePageAgain => format!("link-{}", self.links.get()),
        };
        self.real_next.replace(listed.next.take());
        listed.next = Some(PageToken(link));
        Ok(listed)
    }
    async fn users_delta(&self, from: &DeltaFrom) -> Result<Page<UserChange>, SourceError> {
        self.tenant.users_delta(from).await
    }
    async fn groups_delta(&self, from: &DeltaFrom) -> Result<Page<GroupChange>, SourceError> {
        self.tenant.groups_delta(from).await
    }
}

/// Runs a sync of `eng` over a Graph that pages its members `broken`ly.
fn sync_over(env: &Env, broken: Broken) -> RunResult {
    let source = BrokenPaging {
        tenant: &env.tenant,
        broken,
        links: std::cell::Cell::new(0),
        real_next: std::cell::Cell::new(None),
    };
    let engine = env.engine();
    block(engine.start_sync(ORG, &env.dir, &source, Trigger::Manual)).expect("start");
    let advance = engine.advance(ORG, &env.dir, &source, &env.mailer, Budget::default());
    match block(advance).expect("advance") {
        AdvanceOutcome::Finished { result, .. } => result,
        other => panic!("the run goes on: {other:?}"),
    }
}

#[test]
fn read_listing_page_reads_one_page_per_invocation_and_the_run_gets_every_page() {
    let env = Env::new();
    paged_group(&env);
    env.start().unwrap();
    let one_page = Budget {
        max_pages: Some(1),
        ..Budget::default()
    };
    let mut invocations = 0;
    while !matches!(
        env.advance(one_page).unwrap(),
        AdvanceOutcome::Finished { .. }
    ) {
        invocations += 1;
        assert!(invocations < 10, "the run ends");
    }
    assert_eq!(invocations, 3, "five members two to a page: three pages");
    let summary = env.last_summary();
    assert_eq!(summary.result, RunResult::Completed);
    assert_eq!(summary.counts.pages, 3);
    assert_eq!(env.synced_user_ids().len(), 5);
    assert_eq!(env.members("eng").len(), 5);
}

#[test]
fn read_listing_page_fails_the_run_when_graph_sends_a_next_link_again() {
    let env = Env::new();
    paged_group(&env);
    let RunResult::Failed { error } = sync_over(&env, Broken::SameNextLink) else {
        panic!("the run fails");
    };
    assert!(error.contains("loop"), "{error}");
    assert!(
        error.contains("members of group Engineering (eng)"),
        "{error}"
    );
    assert!(env.synced_user_ids().is_empty(), "nothing counted twice");
}

#[test]
fn read_listing_page_fails_the_run_when_a_page_repeats_the_previous_one() {
    let env = Env::new();
    paged_group(&env);
    let RunResult::Failed { error } = sync_over(&env, Broken::SamePageAgain) else {
        panic!("the run fails");
    };
    assert!(error.contains("loop"), "{error}");
    assert!(env.synced_user_ids().is_empty(), "nothing counted twice");
}

#[test]
fn list_in_full_when_the_tenant_has_no_delta_queries() {
    let env = Env::new();
    env.tenant.domain("contoso.com", true).set_page_size(2);
    env.tenant.put_users(people("a", 5, "contoso.com"));
    env.tenant.put_group("eng", "Engineering");
    env.tenant.add_users_to("eng", ["a00001".to_owned()]);
    env.save_all_users(false);
    env.start().unwrap();
    // The run's first listing is the groups delta.
    let refused = SourceError::DeltaUnavailable("not offered".into());
    env.tenant.fail_next([refused]);
    assert_eq!(env.run_to_end(Budget::default()), RunResult::Completed);
    assert_eq!(env.synced_user_ids().len(), 5);
    assert_eq!(env.members("eng"), ["a00001"]);
    let summary = env.last_summary();
    let said = |text: &str| summary.log.iter().any(|e| e.message.contains(text));
    assert!(said("delta queries are not available"));
}
