//! Typed ids of the simulated system, so a node, a client and a connection
//! cannot be mixed up in a signature or an event. A leaf: it imports nothing.
//!
//! Each id is a transparent wrapper of the integer it was (same size, same
//! order); `index()` gives the position in the vector it indexes.

/// A memcached node, numbered across all pools (the pool's offset plus the
/// node's position in its pool).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u16);

/// A cache client, one per service instance (the same number).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientId(pub u16);

/// A connection between a client and a node (`client × nodes + node`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u32);

/// A generation-checked reference to a client's op slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpRef {
    /// Slot in the client's op slab.
    pub slot: u32,
    /// Generation of the slot when the reference was made.
    pub generation: u32,
}

/// A generation-checked reference to a database query's slot (a query
/// lives from its call to its answer, or longer when its caller left and
/// the server keeps running it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueryRef {
    /// Slot in the database's query slab.
    pub slot: u32,
    /// Generation of the slot when the reference was made.
    pub generation: u32,
}

macro_rules! index {
    ($t:ident, $raw:ty) => {
        impl $t {
            /// The id of position `i`.
            #[inline]
            pub fn new(i: usize) -> Self {
                $t(i as $raw)
            }

            /// Position in the vector this id indexes.
            #[inline]
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

index!(NodeId, u16);
index!(ClientId, u16);
index!(ConnId, u32);
