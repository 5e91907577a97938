//! The model being assembled from configuration files, and its rendering as
//! a commented TOML model.

/// One `key = value  # comment` line (the value already TOML).
#[derive(Clone, Debug)]
pub struct Line {
    /// The key.
    pub key: String,
    /// The value, as TOML text.
    pub value: String,
    /// Where it came from, or `ASSUMPTION: …`.
    pub comment: String,
}

impl Line {
    /// A line.
    pub fn new(key: &str, value: impl Into<String>, comment: impl Into<String>) -> Self {
        Line {
            key: key.into(),
            value: value.into(),
            comment: comment.into(),
        }
    }
}

/// The client section: a policy and its settings.
#[derive(Clone, Debug)]
pub struct Client {
    /// `client.policy`.
    pub policy: &'static str,
    /// The file it came from.
    pub from: String,
    /// `client.op_timeout`, when the file gives it.
    pub op_timeout: Option<Line>,
    /// The keys of `[client.<policy>]`.
    pub settings: Vec<Line>,
}

/// A cache pool.
#[derive(Clone, Debug)]
pub struct Pool {
    /// Its name.
    pub name: String,
    /// `host:port` of each node.
    pub nodes: Vec<String>,
    /// Where it came from.
    pub comment: String,
}

/// What the files said, section by section.
#[derive(Clone, Debug, Default)]
pub struct Skeleton {
    /// `file (format)` of each file read.
    pub sources: Vec<String>,
    /// `[frontend]` keys, and where they came from.
    pub frontend: Vec<Line>,
    /// `service.instances`.
    pub instances: Option<Line>,
    /// The client.
    pub client: Option<Client>,
    /// The cache pools.
    pub pools: Vec<Pool>,
    /// Settings read but not modelled (one line each).
    pub notes: Vec<String>,
}

fn line(out: &mut String, l: &Line) {
    if l.comment.is_empty() {
        out.push_str(&format!("{} = {}\n", l.key, l.value));
    } else {
        out.push_str(&format!("{} = {}  # {}\n", l.key, l.value, l.comment));
    }
}

/// A TOML string literal.
pub fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

impl Skeleton {
    /// Sets the client; a second client configuration is refused (a model
    /// has one client policy).
    pub fn set_client(&mut self, client: Client) -> Result<(), String> {
        if let Some(c) = &self.client {
            return Err(format!(
                "{} configures the {} client, and {} already configured the {} client: a model has one client policy; import them separately",
                client.from, client.policy, c.from, c.policy
            ));
        }
        self.client = Some(client);
        Ok(())
    }

    /// The model text.
    pub fn render(&self) -> String {
        let mut o = String::new();
        o.push_str("# cachestorm model skeleton, written by `cachestorm import` from\n");
        for s in &self.sources {
            o.push_str(&format!("#   {s}\n"));
        }
        o.push_str(
            "#\n\
             # Values read from those files say where they came from. Every value\n\
             # marked ASSUMPTION is not in them: review each one before trusting a\n\
             # result. Keys left out take cachestorm's defaults (README, \"The model\n\
             # file\"). Then `cachestorm check` this file, and add [[fault]] tables for\n\
             # the failures to study.\n",
        );
        if !self.notes.is_empty() {
            o.push_str("#\n# Read but not modelled (review):\n");
            for n in &self.notes {
                o.push_str(&format!("#   - {n}\n"));
            }
        }
        let names: Vec<String> = self
            .sources
            .iter()
            .map(|s| s.split(" (").next().unwrap_or(s).to_string())
            .collect();
        o.push('\n');
        line(
            &mut o,
            &Line::new(
                "name",
                quoted(&format!("imported: {}", names.join(", "))),
                "",
            ),
        );
        for l in [
            Line::new(
                "duration",
                "\"120s\"",
                "ASSUMPTION: simulated time; make it cover your faults and the recovery",
            ),
            Line::new(
                "warmup",
                "\"10s\"",
                "ASSUMPTION: start of the steady window",
            ),
            Line::new(
                "slo",
                "\"2000ms\"",
                "ASSUMPTION: a request done later than this is `late`",
            ),
        ] {
            line(&mut o, &l);
        }

        o.push_str("\n[workload]\n");
        line(
            &mut o,
            &Line::new(
                "rate",
                "1000",
                "ASSUMPTION: requests/s over the whole fleet, at your peak",
            ),
        );
        line(
            &mut o,
            &Line::new(
                "keys",
                "{ count = 10000 }",
                "ASSUMPTION: how many distinct keys are read",
            ),
        );
        o.push_str(
            "\n# ASSUMPTION: a look-aside read (get; on a miss or an error read the\n\
             # database and set the value without waiting). Write your request's steps.\n\
             [[workload.flow]]\n\
             name = \"read\"\n\
             steps = [\n  { op = \"get\" },\n  { op = \"db_read\", on = \"miss_or_error\" },\n  { op = \"set\", on = \"miss_or_error\", wait = false },\n]\n",
        );

        if !self.frontend.is_empty() {
            o.push_str("\n[frontend]\n");
            for l in &self.frontend {
                line(&mut o, l);
            }
        }

        o.push_str("\n[service]\n");
        match &self.instances {
            Some(l) => line(&mut o, l),
            None => line(
                &mut o,
                &Line::new(
                    "instances",
                    "1",
                    "ASSUMPTION: service instances, each with its own cache client",
                ),
            ),
        }
        line(
            &mut o,
            &Line::new(
                "threads",
                "200",
                "ASSUMPTION: request threads per instance (Tomcat's maxThreads default)",
            ),
        );

        o.push_str("\n[client]\n");
        match &self.client {
            Some(c) => {
                line(
                    &mut o,
                    &Line::new("policy", quoted(c.policy), format!("from {}", c.from)),
                );
                if let Some(t) = &c.op_timeout {
                    line(&mut o, t);
                }
                if !c.settings.is_empty() {
                    o.push_str(&format!("\n[client.{}]\n", c.policy));
                    for l in &c.settings {
                        line(&mut o, l);
                    }
                }
            }
            None => line(
                &mut o,
                &Line::new(
                    "policy",
                    "\"spymemcached\"",
                    "ASSUMPTION: no client configuration was imported; spymemcached with its defaults",
                ),
            ),
        }

        o.push_str("\n[cluster]\n");
        line(
            &mut o,
            &Line::new(
                "worker_threads",
                "4",
                "ASSUMPTION: memcached -t (its default)",
            ),
        );
        line(
            &mut o,
            &Line::new(
                "service_time",
                "{ dist = \"exponential\", mean = \"10us\" }",
                "ASSUMPTION: memcached's time per request",
            ),
        );
        line(
            &mut o,
            &Line::new(
                "prefill",
                "true",
                "ASSUMPTION: a warm cache when load starts",
            ),
        );
        match self.pools.as_slice() {
            [] => line(
                &mut o,
                &Line::new(
                    "nodes",
                    "[\"127.0.0.1:11211\"]",
                    "ASSUMPTION: no server list was imported",
                ),
            ),
            [p] => {
                o.push_str(&format!("# {}\n", p.comment));
                line(&mut o, &Line::new("nodes", nodes(&p.nodes), ""));
            }
            pools => {
                for p in pools {
                    o.push_str(&format!("\n# {}\n[[cluster.pool]]\n", p.comment));
                    line(&mut o, &Line::new("name", quoted(&p.name), ""));
                    line(&mut o, &Line::new("nodes", nodes(&p.nodes), ""));
                }
            }
        }

        o.push_str("\n[database]\n");
        line(
            &mut o,
            &Line::new(
                "connections",
                "10",
                "ASSUMPTION: connection pool size (HikariCP's maximumPoolSize default)",
            ),
        );
        line(
            &mut o,
            &Line::new(
                "service_time",
                "{ dist = \"constant\", value = \"5ms\" }",
                "ASSUMPTION: a database read",
            ),
        );
        o
    }
}

fn nodes(list: &[String]) -> String {
    let q: Vec<String> = list.iter().map(|n| quoted(n)).collect();
    format!("[{}]", q.join(", "))
}
