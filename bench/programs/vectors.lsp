;;; bench/programs/vectors.lsp -- a vector holding a large live set, for ECL (bench/run.sh, part programs)
;;; As vectors.scm: a vector of N small objects (each a 3-element vector
;;; holding a cons) is kept live from start to end while short-lived lists
;;; and vectors are made and dropped; every 16th step of the garbage loop
;;; replaces one element at a pseudo-random index with a fresh object.
;;; Size: N = 1000000, 2.5M garbage steps (vectors.scm: 4M; ECL is slower
;;; here); N = 20000, 50000 steps when PROG_SIZE=smoke.

(defparameter *smoke* (equal (ext:getenv "PROG_SIZE") "smoke"))
(defparameter *n* (if *smoke* 20000 1000000))
(defparameter *steps* (if *smoke* 50000 2500000))

(defun item (i) (vector i (* 2 i) (cons i nil)))

(defun next-rand (x) (mod (+ (* x 69069) 1) 4294967296)) ; stays a fixnum

(defun run ()
  (let* ((n *n*) (live (make-array n)) (x 42) (acc 0))
    (dotimes (i n) (setf (svref live i) (item i)))
    (dotimes (s *steps*)
      (let ((l (make-list 8 :initial-element s))
            (v (make-array 4 :initial-element s)))
        (incf acc (+ (reduce #'+ l) (svref v 3)))
        (when (= 0 (mod s 16))
          (setf (svref live (mod x n)) (item (+ s n))))
        (setf x (next-rand x))))
    (dotimes (i n)
      (let ((o (svref live i)))
        (incf acc (+ (svref o 0) (car (svref o 2))))))
    acc))

(format t "check: vectors n ~a steps ~a total ~a~%" *n* *steps* (run))
