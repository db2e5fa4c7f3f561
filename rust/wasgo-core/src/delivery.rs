//! One bounded delivery queue for everything a mod's owner delivers later: signal callbacks,
//! `mod_event`s, finished HTTP requests.
//!
//! The rule every queue shares: items are delivered in the order they arrived; what could not be
//! delivered now (the instance is busy in `main`, the frame's budget is spent) is put back *in
//! front* of what arrived meanwhile, so the order holds; and the queue never holds more than its
//! capacity — when it would, the **oldest** items are dropped and counted (the newest state of a
//! game is what a mod can still act on), and the owner reports the count.

use std::collections::VecDeque;

/// A bounded FIFO with the requeue-in-front rule (see the module docs).
#[derive(Debug)]
pub struct DeliveryQueue<T> {
    items: VecDeque<T>,
    capacity: usize,
    /// Items dropped since the last [`DeliveryQueue::take_dropped`].
    dropped: usize,
}

impl<T> DeliveryQueue<T> {
    /// An empty queue holding at most `capacity` items (at least 1).
    pub fn new(capacity: usize) -> DeliveryQueue<T> {
        DeliveryQueue {
            items: VecDeque::new(),
            capacity: capacity.max(1),
            dropped: 0,
        }
    }

    /// Appends an item; when the queue is full, the oldest item is dropped and counted.
    pub fn push(&mut self, item: T) {
        self.items.push_back(item);
        self.trim();
    }

    /// Takes everything queued, oldest first.
    pub fn take(&mut self) -> VecDeque<T> {
        std::mem::take(&mut self.items)
    }

    /// Puts back items that could not be delivered, in front of those that arrived since they
    /// were taken, keeping their order; the oldest beyond the capacity are dropped and counted.
    pub fn requeue(&mut self, mut undelivered: VecDeque<T>) {
        undelivered.append(&mut self.items);
        self.items = undelivered;
        self.trim();
    }

    /// The number of items dropped since the last call (and resets it).
    pub fn take_dropped(&mut self) -> usize {
        std::mem::take(&mut self.dropped)
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The items queued, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn trim(&mut self) {
        while self.items.len() > self.capacity {
            self.items.pop_front();
            self.dropped += 1;
        }
    }
}

impl<T> Default for DeliveryQueue<T> {
    /// A queue of [`DEFAULT_CAPACITY`] items.
    fn default() -> DeliveryQueue<T> {
        DeliveryQueue::new(DEFAULT_CAPACITY)
    }
}

/// The capacity of a default queue: deliveries that may wait for a busy instance.
pub const DEFAULT_CAPACITY: usize = 10_000;

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(q: &mut DeliveryQueue<i32>) -> Vec<i32> {
        q.take().into_iter().collect()
    }

    #[test]
    fn items_come_out_in_arrival_order() {
        let mut q = DeliveryQueue::new(8);
        for i in 0..5 {
            q.push(i);
        }
        assert_eq!(drain(&mut q), vec![0, 1, 2, 3, 4]);
        assert!(q.is_empty());
    }

    #[test]
    fn requeued_items_go_before_items_that_arrived_meanwhile() {
        let mut q = DeliveryQueue::new(8);
        q.push(1);
        q.push(2);
        q.push(3);
        let mut taken = q.take();
        assert_eq!(taken.pop_front(), Some(1)); // delivered
        q.push(4); // arrived while 2 and 3 waited
        q.requeue(taken);
        assert_eq!(drain(&mut q), vec![2, 3, 4]);
    }

    #[test]
    fn a_full_queue_drops_the_oldest_and_counts_them() {
        let mut q = DeliveryQueue::new(3);
        for i in 0..5 {
            q.push(i);
        }
        assert_eq!(q.len(), 3);
        assert_eq!(q.take_dropped(), 2);
        assert_eq!(q.take_dropped(), 0);
        assert_eq!(drain(&mut q), vec![2, 3, 4]);
    }

    #[test]
    fn requeue_past_the_capacity_keeps_the_newest() {
        let mut q = DeliveryQueue::new(4);
        let undelivered: VecDeque<i32> = (0..3).collect();
        q.push(10);
        q.push(11);
        q.requeue(undelivered);
        assert_eq!(q.take_dropped(), 1);
        assert_eq!(drain(&mut q), vec![1, 2, 10, 11]);
    }

    #[test]
    fn capacity_is_at_least_one() {
        let mut q = DeliveryQueue::new(0);
        q.push(1);
        q.push(2);
        assert_eq!(q.capacity(), 1);
        assert_eq!(drain(&mut q), vec![2]);
    }
}
